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
import { findDeployedCell } from "./deployed-store.ts";
import { LOCAL_TABLE_NAME, readRuntimeInfo } from "./runtime-info.ts";

/** Cell of local data when neither CELL_ID nor the runtime names one. */
const DEFAULT_LOCAL_CELL = "global";

export interface AdminStore {
	store: Store;
	/** Cell the store belongs to: the deployed cell, or the local runtime's. */
	cell: string;
	/** Releases what the CLI started; safe to call when nothing was started. */
	close(): Promise<void>;
}

export interface StoreTargetOptions {
	/** Environment to read overrides from; defaults to `process.env`. */
	env?: NodeJS.ProcessEnv;
	/** Id of a deployed cell to work on instead of local data. */
	deployedCell?: string;
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
 * With `deployedCell`, it opens that cell's table instead, found through
 * the cell stack's CloudFormation outputs and reached with the usual AWS
 * credential chain.
 */
export async function openAdminStore(
	options: StoreTargetOptions = {},
): Promise<AdminStore> {
	const env = options.env ?? process.env;

	if (options.deployedCell) {
		const deployed = await findDeployedCell(options.deployedCell);
		const store = createStore({
			tableName: deployed.tableName,
			region: deployed.region,
		});
		return {
			store,
			cell: options.deployedCell,
			close: async () => store.doc.destroy(),
		};
	}

	const runtime = readRuntimeInfo();
	const localCell = env.CELL_ID || runtime?.cell || DEFAULT_LOCAL_CELL;
	if (env.DYNAMODB_ENDPOINT && env.TABLE_NAME) {
		return openEndpoint(env.DYNAMODB_ENDPOINT, env.TABLE_NAME, localCell);
	}

	if (runtime && (await endpointResponds(runtime.dynamodbEndpoint))) {
		return openEndpoint(runtime.dynamodbEndpoint, runtime.tableName, localCell);
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
	const opened = openEndpoint(dynamodb.endpoint, LOCAL_TABLE_NAME, localCell);
	return {
		...opened,
		close: async () => {
			await opened.close();
			await dynamodb.stop();
		},
	};
}

function openEndpoint(
	endpoint: string,
	tableName: string,
	cell: string,
): AdminStore {
	const store = createStore({ tableName, endpoint });
	return {
		store,
		cell,
		close: async () => store.doc.destroy(),
	};
}
