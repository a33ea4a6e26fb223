import type { Stack } from "aws-cdk-lib";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app.ts";
import { CELLS } from "../../infra/cells.ts";
import { type SynthesizedApp, synthesizeApp } from "./synth.ts";

/** Skips esbuild for tests that only inspect the construct tree. */
const WITHOUT_BUNDLING = { "aws:cdk:bundling-stacks": [] };

let synthesized: SynthesizedApp;

beforeAll(() => {
	synthesized = synthesizeApp();
});

describe("buildApp", () => {
	it("creates one stack per cell", () => {
		const names = synthesized.gateways.map((stack) => stack.stackName);

		expect(names).toEqual(CELLS.map((cell) => `gag-${cell.id}`));
	});

	it("puts each cell in its region", () => {
		for (const cell of CELLS) {
			const stack = synthesized.assembly.getStackByName(`gag-${cell.id}`);

			expect(stack.environment.region, cell.id).toBe(cell.region);
		}
	});

	it("puts the portal in us-east-1", () => {
		const portal = synthesized.assembly.getStackByName("gag-portal");

		expect(portal.environment.region).toBe("us-east-1");
	});

	it("deploys the portal after the cells", () => {
		const portal = synthesized.assembly.getStackByName("gag-portal");
		const dependencies = portal.dependencies.map((artifact) => artifact.id);

		for (const cell of CELLS) {
			expect(dependencies, cell.id).toContain(`gag-${cell.id}`);
		}
	});

	it("narrows to the cells in context", () => {
		const { gateways } = buildApp({
			context: { ...WITHOUT_BUNDLING, cells: "sg,us" },
		});

		expect(gateways.map((stack) => stack.stackName)).toEqual([
			"gag-sg",
			"gag-us",
		]);
	});

	it("rejects an unknown cell", () => {
		expect(() =>
			buildApp({ context: { ...WITHOUT_BUNDLING, cells: "sg,eu" } }),
		).toThrow(/Unknown cell "eu"/);
	});

	it("requires domain and certificate together", () => {
		expect(() =>
			buildApp({
				context: { ...WITHOUT_BUNDLING, portalDomain: "portal.example.com" },
			}),
		).toThrow(/portalCertificateArn/);
	});

	it("uses the account from the environment", () => {
		const previous = process.env.CDK_DEFAULT_ACCOUNT;
		process.env.CDK_DEFAULT_ACCOUNT = "111111111111";

		try {
			const { gateways, portal } = buildApp({ context: WITHOUT_BUNDLING });

			expect(gateways[0]?.account).toBe("111111111111");
			expect(portal?.account).toBe("111111111111");
		} finally {
			if (previous === undefined) {
				delete process.env.CDK_DEFAULT_ACCOUNT;
			} else {
				process.env.CDK_DEFAULT_ACCOUNT = previous;
			}
		}
	});
});

describe("cdk-nag AwsSolutions", () => {
	it("reports no unacknowledged finding", () => {
		const report = new AwsSolutionsChecks().validateScope(synthesized.app);
		const findings = report.violations.flatMap((violation) =>
			violation.violatingResources.map(
				(resource) => `${violation.ruleName} at ${resource.constructPath}`,
			),
		);

		expect(findings).toEqual([]);
		expect(report.success).toBe(true);
	});

	it("fails synthesis on a new finding", () => {
		const { app, gateways } = buildApp({ context: { cells: "sg" } });
		const stack = gateways[0] as Stack;
		new Bucket(stack, "UnloggedBucket");

		expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
	});
});
