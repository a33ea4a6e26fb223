/**
 * The CDK app: one GatewayStack per cell, each in its own region, and one
 * PortalStack in us-east-1. `cdk.json` runs this file with Node 24.
 *
 * Context (`-c key=value`):
 * - `cells`: comma-separated cell ids to synthesize, for example `sg,us`
 *   (default: every cell in infra/cells.ts);
 * - `portalDomain` and `portalCertificateArn`: the portal's custom domain
 *   and its us-east-1 ACM certificate;
 * - `sellerOfRecord`: JSON passed to the handlers as SELLER_OF_RECORD.
 *
 * Nothing here looks up the account: stacks take the account from
 * CDK_DEFAULT_ACCOUNT, which the CLI sets from the caller's credentials, and
 * fall back to the `AWS::AccountId` pseudo parameter when it is unset (offline
 * synth).
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { CELLS, type CellConfig, getCell } from "./cells.ts";
import { gatewayStackName } from "./stacks/gateway-outputs.ts";
import { GatewayStack } from "./stacks/gateway-stack.ts";
import { PortalStack } from "./stacks/portal-stack.ts";

/** CloudFront web ACLs and certificates must be created in us-east-1. */
export const PORTAL_REGION = "us-east-1";
export const PORTAL_STACK_NAME = "gag-portal";

/**
 * Context defaults; cdk.json and `-c` override them. Weak references read
 * the cells' outputs with Fn::GetStackOutput, so the portal in us-east-1
 * needs no export custom resources, and a cell stack can be replaced
 * without first removing the portal's reference to it.
 */
const APP_DEFAULT_CONTEXT = {
	"@aws-cdk/core:defaultCrossStackReferences": "weak",
};

export interface GatewayApp {
	app: App;
	gateways: GatewayStack[];
	/** Absent when no selected cell is in the `aws` partition. */
	portal?: PortalStack;
}

export interface BuildAppOptions {
	/** Context values, as `-c` would set them. */
	context?: Record<string, unknown>;
	/** Cloud assembly directory; tests pass a temporary one. */
	outdir?: string;
}

/** Builds the app with every stack and the cdk-nag AwsSolutions checks. */
export function buildApp(options: BuildAppOptions = {}): GatewayApp {
	const app = new App({
		context: { ...APP_DEFAULT_CONTEXT, ...options.context },
		outdir: options.outdir,
	});
	const account = process.env.CDK_DEFAULT_ACCOUNT;
	const cells = selectedCells(app.node.tryGetContext("cells"));
	const portalDomain = contextString(app, "portalDomain");
	const sellerOfRecord = contextString(app, "sellerOfRecord");

	const gateways = cells.map(
		(cell) =>
			new GatewayStack(app, gatewayStackName(cell.id), {
				stackName: gatewayStackName(cell.id),
				description: `Global AI Gateway cell ${cell.id} (${cell.region})`,
				env: { account, region: cell.region },
				cell,
				portalDomain,
				sellerOfRecord,
			}),
	);

	// A stack cannot reference another partition, so the portal lists only
	// cells in the `aws` partition. An aws-cn cell needs its own portal.
	const portalCells = gateways
		.map((stack, index) => ({ cell: cells[index] as CellConfig, stack }))
		.filter((entry) => entry.cell.partition === "aws");
	let portal: PortalStack | undefined;
	if (portalCells.length > 0) {
		portal = new PortalStack(app, PORTAL_STACK_NAME, {
			stackName: PORTAL_STACK_NAME,
			description: "Global AI Gateway portal",
			env: { account, region: PORTAL_REGION },
			cells: portalCells,
			customDomain: customDomain(app, portalDomain),
		});
	}

	Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
	return { app, gateways, portal };
}

function selectedCells(value: unknown): CellConfig[] {
	if (value === undefined || value === "") {
		return [...CELLS];
	}
	if (typeof value !== "string") {
		throw new Error(
			`Invalid context "cells": expected comma-separated cell ids such as "sg,us", got ${JSON.stringify(value)}.`,
		);
	}
	return value
		.split(",")
		.map((id) => id.trim())
		.filter((id) => id !== "")
		.map(getCell);
}

function contextString(app: App, key: string): string | undefined {
	const value: unknown = app.node.tryGetContext(key);
	if (value === undefined || value === "") {
		return undefined;
	}
	if (typeof value !== "string") {
		throw new Error(
			`Invalid context "${key}": expected a string, got ${JSON.stringify(value)}.`,
		);
	}
	return value;
}

function customDomain(
	app: App,
	portalDomain: string | undefined,
): PortalStackProps["customDomain"] {
	const certificateArn = contextString(app, "portalCertificateArn");
	if (portalDomain === undefined && certificateArn === undefined) {
		return undefined;
	}
	if (portalDomain === undefined || certificateArn === undefined) {
		throw new Error(
			"Set both portalDomain and portalCertificateArn (an ACM certificate in us-east-1), or neither.",
		);
	}
	return { domainName: portalDomain, certificateArn };
}

type PortalStackProps = ConstructorParameters<typeof PortalStack>[2];

if (import.meta.main) {
	buildApp().app.synth();
}
