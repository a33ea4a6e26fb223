/**
 * Builds and synthesizes the CDK app once per test file, into a temporary
 * directory, and hands out each stack's template.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import {
	type BuildAppOptions,
	buildApp,
	type GatewayApp,
} from "../../infra/app.ts";

export interface SynthesizedApp extends GatewayApp {
	assembly: CloudAssembly;
	template(stackName: string): Template;
}

/**
 * Synthesizes the app. Synthesis runs the cdk-nag AwsSolutions checks and
 * throws when any finding is not acknowledged.
 */
export function synthesizeApp(
	context: BuildAppOptions["context"] = {},
): SynthesizedApp {
	const outdir = mkdtempSync(join(tmpdir(), "gag-cdk-"));
	const built = buildApp({ context, outdir });
	const assembly = built.app.synth();
	return {
		...built,
		assembly,
		template: (stackName) =>
			Template.fromJSON(assembly.getStackByName(stackName).template),
	};
}

// biome-ignore lint/suspicious/noExplicitAny: template properties are untyped CloudFormation JSON that the tests navigate by path.
type CfnProperties = any;
type Resources = Record<string, { Type: string; Properties?: CfnProperties }>;

/** Resources of one CloudFormation type, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
	return template.findResources(type) as Resources;
}

/** Logical id of the function whose POWERTOOLS_SERVICE_NAME is `service`. */
export function functionByService(
	template: Template,
	service: string,
): { logicalId: string; properties: CfnProperties } {
	const functions = resourcesOfType(template, "AWS::Lambda::Function");
	for (const [logicalId, resource] of Object.entries(functions)) {
		const variables = resource.Properties?.Environment?.Variables ?? {};
		if (variables.POWERTOOLS_SERVICE_NAME === service) {
			return { logicalId, properties: resource.Properties };
		}
	}
	throw new Error(`No function with POWERTOOLS_SERVICE_NAME "${service}".`);
}

/** Collects every IAM action that the policies on a function's role allow. */
export function actionsOfFunctionRole(
	template: Template,
	service: string,
): string[] {
	const { properties } = functionByService(template, service);
	const roleLogicalId: string = properties.Role["Fn::GetAtt"][0];
	const policies = resourcesOfType(template, "AWS::IAM::Policy");
	const actions: string[] = [];
	for (const policy of Object.values(policies)) {
		const roles: { Ref: string }[] = policy.Properties.Roles ?? [];
		if (!roles.some((role) => role.Ref === roleLogicalId)) {
			continue;
		}
		for (const statement of policy.Properties.PolicyDocument.Statement) {
			actions.push(...[statement.Action].flat());
		}
	}
	return actions;
}
