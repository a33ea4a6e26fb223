/**
 * DynamoDB document client for the cell's table. Locally and in tests the
 * endpoint is DynamoDB Local on loopback with static local credentials, so
 * the SDK never looks for real credentials or the metadata service.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface StoreConfig {
	tableName: string;
	/** Loopback endpoint of DynamoDB Local; absent in a deployed cell. */
	endpoint?: string;
	region?: string;
}

export interface Store {
	doc: DynamoDBDocumentClient;
	tableName: string;
}

/** Creates the document client; local endpoints get static local credentials. */
export function createStore(config: StoreConfig): Store {
	const client = new DynamoDBClient({
		region: config.region ?? process.env.AWS_REGION ?? "us-east-1",
		...(config.endpoint
			? {
					endpoint: config.endpoint,
					credentials: { accessKeyId: "local", secretAccessKey: "local" },
				}
			: {}),
		maxAttempts: 3,
	});
	const doc = DynamoDBDocumentClient.from(client, {
		marshallOptions: { removeUndefinedValues: true },
	});
	return { doc, tableName: config.tableName };
}

let defaultStore: Store | undefined;

/**
 * Store for the running function: `TABLE_NAME`, and `DYNAMODB_ENDPOINT`
 * when running against DynamoDB Local.
 */
export function storeFromEnvironment(): Store {
	if (!defaultStore) {
		const tableName = process.env.TABLE_NAME;
		if (!tableName) {
			throw new Error("TABLE_NAME is not set; it names the cell's table.");
		}
		defaultStore = createStore({
			tableName,
			endpoint: process.env.DYNAMODB_ENDPOINT,
		});
	}
	return defaultStore;
}
