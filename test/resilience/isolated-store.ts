/**
 * A table of its own in the run's DynamoDB Local. The reconciler releases
 * every expired reservation in a table, and the log suite scans a whole
 * table, so those suites must not share the table other test files use.
 */
import { inject } from "vitest";
import { createStore, type Store } from "../../functions/store/client.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import { createTable } from "../../infra/local/create-table.ts";
import { localDynamoDBClient } from "../../infra/local/dynamodb-local.ts";

/** Creates a fresh table named `gag-<purpose>-<ulid>` and a store for it. */
export async function isolatedStore(purpose: string): Promise<Store> {
	const endpoint = inject("dynamodbEndpoint");
	const tableName = `gag-${purpose}-${newRequestId().toLowerCase()}`;
	const client = localDynamoDBClient(endpoint);
	try {
		await createTable(client, tableName);
	} finally {
		client.destroy();
	}
	return createStore({ tableName, endpoint });
}
