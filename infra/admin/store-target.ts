/**
 * Chooses which table the admin CLI works on. Every choice between local
 * data and a deployed cell lives in `openAdminStore`, so a new target is one
 * new branch there.
 */
import { createStore, type Store } from "../../functions/store/client.ts";
import { createTable } from "../local/create-table.ts";
import {
	endpointResponds,
	LOCAL_DATA_DIR,
	localDynamoDBClient,
	startDynamoDBLocal,
} from "../local/dynamodb-local.ts";
import { LOCAL_TABLE_NAME, readRuntimeInfo } from "./runtime-info.ts";

export interface AdminStore {
	store: Store;
	/** Releases what the CLI started; safe to call when nothing was started. */
	close(): Promise<void>;
}

export interface StoreTargetOptions {
	/** Environment to read overrides from; defaults to `process.env`. */
	env?: NodeJS.ProcessEnv;
}

/**
 * Opens the store, trying in order:
 *
 * 1. `DYNAMODB_ENDPOINT` and `TABLE_NAME` from the environment (tests, or a
 *    DynamoDB Local started by hand);
 * 2. the running local runtime, found through `.data/runtime.json` when its
 *    endpoint responds;
 * 3. DynamoDB Local started by the CLI itself on `.data/dynamodb/`, stopped
 *    again by `close()`.
 *
 * TODO: a deployed cell (`--cell <id>`) belongs here as a fourth target that
 * reads the table name and region from the cell stack's CloudFormation
 * outputs.
 */
export async function openAdminStore(
	options: StoreTargetOptions = {},
): Promise<AdminStore> {
	const env = options.env ?? process.env;

	if (env.DYNAMODB_ENDPOINT && env.TABLE_NAME) {
		return openEndpoint(env.DYNAMODB_ENDPOINT, env.TABLE_NAME);
	}

	const runtime = readRuntimeInfo();
	if (runtime && (await endpointResponds(runtime.dynamodbEndpoint))) {
		return openEndpoint(runtime.dynamodbEndpoint, runtime.tableName);
	}

	// NOTE: two CLI runs at the same moment would each start a JVM on the
	// same database directory. While the local runtime is stopped, run admin
	// commands one at a time.
	const dynamodb = await startDynamoDBLocal({ dbPath: LOCAL_DATA_DIR });
	const client = localDynamoDBClient(dynamodb.endpoint);
	try {
		await createTable(client, LOCAL_TABLE_NAME);
	} catch (error) {
		await dynamodb.stop();
		throw error;
	} finally {
		client.destroy();
	}
	const opened = openEndpoint(dynamodb.endpoint, LOCAL_TABLE_NAME);
	return {
		...opened,
		close: async () => {
			await opened.close();
			await dynamodb.stop();
		},
	};
}

function openEndpoint(endpoint: string, tableName: string): AdminStore {
	const store = createStore({ tableName, endpoint });
	return {
		store,
		close: async () => store.doc.destroy(),
	};
}
