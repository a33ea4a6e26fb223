import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const outDir = mkdtempSync(join(tmpdir(), "gag-cdk-out-"));

afterAll(() => {
	rmSync(outDir, { recursive: true, force: true });
});

/** Runs the real CDK CLI with no AWS credentials and no metadata lookups. */
function cdkSynth(): Promise<{ code: number; stderr: string }> {
	const env: NodeJS.ProcessEnv = {
		PATH: process.env.PATH,
		HOME: process.env.HOME,
		AWS_EC2_METADATA_DISABLED: "true",
		CDK_DISABLE_CLI_TELEMETRY: "true",
	};
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			["node_modules/aws-cdk/bin/cdk", "synth", "--quiet", "--output", outDir],
			{ env, maxBuffer: 64 * 1024 * 1024 },
			(error, _stdout, stderr) => {
				resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
			},
		);
	});
}

describe("cdk synth", () => {
	it("synthesizes every cell and the portal offline", {
		timeout: 300_000,
	}, async () => {
		const result = await cdkSynth();

		expect(result.code, result.stderr).toBe(0);
		const templates = readdirSync(outDir).filter((file) =>
			file.endsWith(".template.json"),
		);
		for (const stack of ["gag-sg", "gag-us", "gag-global", "gag-portal"]) {
			expect(templates, stack).toContain(`${stack}.template.json`);
		}
	});
});
