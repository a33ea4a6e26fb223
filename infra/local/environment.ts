/**
 * The handler environment of a local run: the same variables a deployed
 * function gets, pointed at DynamoDB Local and the provider simulator, with
 * static local AWS credentials so no SDK looks for real ones.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Catalog of local runs: every active provider is a simulator path. */
export const LOCAL_CATALOG_FILE = resolve(
	REPO_ROOT,
	"infra/catalog/local.json",
);

export interface LocalEnvironmentOptions {
	tableName: string;
	/** Loopback endpoint of DynamoDB Local. */
	dynamodbEndpoint: string;
	/** Base URL of the provider simulator, substituted into the catalog. */
	simulatorUrl: string;
	cell?: string;
	catalogFile?: string;
}

/** Builds the environment variables the handlers read. */
export function localHandlerEnvironment(
	options: LocalEnvironmentOptions,
): Record<string, string> {
	return {
		TABLE_NAME: options.tableName,
		DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
		CELL_ID: options.cell ?? "global",
		CATALOG_FILE: options.catalogFile ?? LOCAL_CATALOG_FILE,
		SIMULATOR_URL: options.simulatorUrl,
		AWS_EC2_METADATA_DISABLED: "true",
		AWS_ACCESS_KEY_ID: "local",
		AWS_SECRET_ACCESS_KEY: "local",
		AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
		// No CloudWatch reads embedded metrics locally, so they stay off
		// unless asked for; request logs stay on at INFO.
		POWERTOOLS_METRICS_DISABLED:
			process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
		POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "INFO",
	};
}
