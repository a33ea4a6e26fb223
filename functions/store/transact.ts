/**
 * TransactWriteItems with retry on conflicts. DynamoDB cancels a transaction
 * with reason `TransactionConflict` when another transaction touches one of
 * its items at the same time. Such a cancellation changed nothing, so running
 * it again is safe. A failed condition is never retried. DynamoDB Local
 * 1.25 runs transactions one at a time and never reports a conflict, so only
 * the deployed service exercises the retry.
 */
import {
	ConditionalCheckFailedException,
	TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
	TransactWriteCommand,
	type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { Store } from "./client.ts";

export type TransactItem = NonNullable<
	TransactWriteCommandInput["TransactItems"]
>[number];

const MAX_ATTEMPTS = 10;
const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 400;

/**
 * Writes the items in one transaction, retrying with jittered backoff while
 * the only cancellation reasons are conflicts with other transactions.
 *
 * @throws TransactionCanceledException when a condition fails, or when
 *   conflicts persist after 10 attempts.
 */
export async function transactWrite(
	store: Store,
	items: TransactItem[],
): Promise<void> {
	for (let attempt = 1; ; attempt++) {
		try {
			await store.doc.send(new TransactWriteCommand({ TransactItems: items }));
			return;
		} catch (error) {
			if (attempt >= MAX_ATTEMPTS || !isConflictOnly(error)) throw error;
			const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
			await new Promise((wake) => setTimeout(wake, Math.random() * ceiling));
		}
	}
}

/**
 * Builds the transaction item that writes `item` as a new item. The write
 * fails its condition when an item with the same `pk` and `sk` exists.
 */
export function putNewItem(
	store: Store,
	item: NonNullable<TransactItem["Put"]>["Item"],
): TransactItem {
	return {
		Put: {
			TableName: store.tableName,
			Item: item,
			ConditionExpression: "attribute_not_exists(pk)",
		},
	};
}

/**
 * Returns true when the transaction failed because the condition on the
 * item at `index` did not hold.
 */
export function conditionFailedAt(error: unknown, index: number): boolean {
	if (!(error instanceof TransactionCanceledException)) return false;
	return error.CancellationReasons?.[index]?.Code === "ConditionalCheckFailed";
}

/** Returns true for a failed condition of a single-item write. */
export function isConditionFailure(error: unknown): boolean {
	return error instanceof ConditionalCheckFailedException;
}

function isConflictOnly(error: unknown): boolean {
	if (!(error instanceof TransactionCanceledException)) return false;
	const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
	return (
		codes.includes("TransactionConflict") &&
		codes.every((code) => code === "TransactionConflict" || code === "None")
	);
}
