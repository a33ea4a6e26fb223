/**
 * Creates a cell's table in DynamoDB Local from the one definition in
 * `shared/table.ts`: key schema, global secondary indexes, on-demand billing
 * and TTL on the expiry attribute.
 */
import {
	CreateTableCommand,
	DescribeTimeToLiveCommand,
	type DynamoDBClient,
	ResourceInUseException,
	UpdateTimeToLiveCommand,
	waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
	BILLING_MODE,
	GLOBAL_INDEXES,
	KEY_ATTRIBUTES,
	PARTITION_KEY,
	SORT_KEY,
	TTL_ATTRIBUTE,
} from "../../shared/table.ts";

const ACTIVE_TIMEOUT_SECONDS = 60;

/**
 * Creates the table and waits until it is ACTIVE with TTL enabled. An
 * existing table counts as success, so calling it twice is safe.
 *
 * @returns `created` for a new table, `exists` when it was already there.
 */
export async function createTable(
	client: DynamoDBClient,
	tableName: string,
): Promise<"created" | "exists"> {
	let outcome: "created" | "exists" = "created";
	try {
		await client.send(
			new CreateTableCommand({
				TableName: tableName,
				BillingMode: BILLING_MODE,
				AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({
					AttributeName: name,
					AttributeType: "S",
				})),
				KeySchema: [
					{ AttributeName: PARTITION_KEY, KeyType: "HASH" },
					{ AttributeName: SORT_KEY, KeyType: "RANGE" },
				],
				GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
					IndexName: index.indexName,
					KeySchema: [
						{ AttributeName: index.partitionKey, KeyType: "HASH" },
						{ AttributeName: index.sortKey, KeyType: "RANGE" },
					],
					Projection: { ProjectionType: "ALL" },
				})),
			}),
		);
	} catch (error) {
		if (!(error instanceof ResourceInUseException)) throw error;
		outcome = "exists";
	}

	await waitUntilTableExists(
		{ client, maxWaitTime: ACTIVE_TIMEOUT_SECONDS },
		{ TableName: tableName },
	);
	await enableTimeToLive(client, tableName);
	return outcome;
}

async function enableTimeToLive(
	client: DynamoDBClient,
	tableName: string,
): Promise<void> {
	const current = await client.send(
		new DescribeTimeToLiveCommand({ TableName: tableName }),
	);
	const status = current.TimeToLiveDescription?.TimeToLiveStatus;
	if (status === "ENABLED" || status === "ENABLING") return;
	await client.send(
		new UpdateTimeToLiveCommand({
			TableName: tableName,
			TimeToLiveSpecification: {
				AttributeName: TTL_ATTRIBUTE,
				Enabled: true,
			},
		}),
	);
}
