import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		globalSetup: ["test/setup/global-setup.ts"],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		pool: "forks",
		env: {
			AWS_EC2_METADATA_DISABLED: "true",
			AWS_ACCESS_KEY_ID: "local",
			AWS_SECRET_ACCESS_KEY: "local",
			AWS_REGION: "us-east-1",
			CDK_DISABLE_CLI_TELEMETRY: "true",
			POWERTOOLS_METRICS_DISABLED: "true",
		},
	},
});
