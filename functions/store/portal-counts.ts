/** Counts for the portal overview, read without loading the items. */
import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { Store } from "./client.ts";

/** Counts a workspace's receipts (purchase and usage) with Select COUNT. */
export async function countReceipts(
	store: Store,
	workspaceId: string,
): Promise<number> {
	let count = 0;
	let startKey: QueryCommandInput["ExclusiveStartKey"];
	do {
		const page = await store.doc.send(
			new QueryCommand({
				TableName: store.tableName,
				KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
				ExpressionAttributeValues: {
					":pk": keys.workspace(workspaceId).pk,
					":prefix": SORT_PREFIX.receipt,
				},
				Select: "COUNT",
				ExclusiveStartKey: startKey,
			}),
		);
		count += page.Count ?? 0;
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return count;
}
