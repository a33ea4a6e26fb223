/**
 * Receipts: one per credit purchase and one per charged request. Purchase
 * receipts are written here; usage receipts come from metering.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import { newReceiptId } from "./ids.ts";
import type { ReceiptItem } from "./items.ts";
import { queryByUlid } from "./query.ts";
import { putNewItem, type TransactItem } from "./transact.ts";

export interface PurchaseReceiptInput {
	workspaceId: string;
	amountMicroUsd: number;
	sellerOfRecord: string;
	description: string;
	createdAt: string;
}

/** Builds a purchase receipt and the transaction item that writes it. */
export function purchaseReceiptPut(
	store: Store,
	input: PurchaseReceiptInput,
): { item: ReceiptItem; put: TransactItem } {
	const receiptId = newReceiptId();
	const item: ReceiptItem = {
		...keys.receipt(input.workspaceId, receiptId),
		entity: "receipt",
		receiptId,
		workspaceId: input.workspaceId,
		kind: "purchase",
		amountMicroUsd: input.amountMicroUsd,
		sellerOfRecord: input.sellerOfRecord,
		description: input.description,
		createdAt: input.createdAt,
	};
	return {
		item,
		put: putNewItem(store, item),
	};
}

/**
 * Ids of receipts: `rcpt_<ulid>` for purchases, the request id
 * (`req_<ulid>`) for usage.
 */
export const RECEIPT_ID_FAMILIES = ["rcpt_", "req_"] as const;

/** Lists a workspace's receipts (purchases and usage), newest first. */
export function listReceipts(
	store: Store,
	workspaceId: string,
	options: { limit?: number } = {},
): Promise<ReceiptItem[]> {
	return queryByUlid<ReceiptItem>(store, {
		pk: keys.workspace(workspaceId).pk,
		sortPrefix: SORT_PREFIX.receipt,
		idFamilies: RECEIPT_ID_FAMILIES,
		newestFirst: true,
		limit: options.limit,
	});
}

/** Gets one receipt, or `undefined` when the workspace has none with that id. */
export async function getReceipt(
	store: Store,
	workspaceId: string,
	receiptId: string,
): Promise<ReceiptItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.receipt(workspaceId, receiptId),
		}),
	);
	return result.Item as ReceiptItem | undefined;
}
