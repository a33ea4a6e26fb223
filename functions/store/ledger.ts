/**
 * Ledger entries: the signed history of a workspace's credit. The sum of
 * all entries equals available plus reserved credit on the balance item,
 * because a reservation moves credit between the two without an entry.
 */
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import { newLedgerEntryId } from "./ids.ts";
import type { LedgerEntryItem, LedgerKind } from "./items.ts";
import { queryByUlid } from "./query.ts";
import { putNewItem, type TransactItem } from "./transact.ts";

export interface LedgerEntryInput {
	workspaceId: string;
	kind: LedgerKind;
	/** Signed micro-USD: positive adds credit, negative spends it. */
	amountMicroUsd: number;
	requestId?: string;
	receiptId?: string;
	note?: string;
	createdAt: string;
}

/** Builds a ledger entry and the transaction item that writes it. */
export function ledgerEntryPut(
	store: Store,
	input: LedgerEntryInput,
): { item: LedgerEntryItem; put: TransactItem } {
	const entryId = newLedgerEntryId();
	const item: LedgerEntryItem = {
		...keys.ledgerEntry(input.workspaceId, entryId),
		entity: "ledgerEntry",
		entryId,
		...input,
	};
	return {
		item,
		put: putNewItem(store, item),
	};
}

/**
 * Ids of ledger entries: bare ULIDs for top-ups and adjustments, the request
 * id (`req_<ulid>`) for charges.
 */
export const LEDGER_ID_FAMILIES = ["", "req_"] as const;

/**
 * Lists a workspace's ledger entries in creation order, oldest first unless
 * `newestFirst`. Without a limit it reads the whole ledger, as
 * reconciliation needs.
 */
export function listLedgerEntries(
	store: Store,
	workspaceId: string,
	options: { limit?: number; newestFirst?: boolean } = {},
): Promise<LedgerEntryItem[]> {
	return queryByUlid<LedgerEntryItem>(store, {
		pk: keys.workspace(workspaceId).pk,
		sortPrefix: SORT_PREFIX.ledger,
		idFamilies: LEDGER_ID_FAMILIES,
		newestFirst: options.newestFirst ?? false,
		limit: options.limit,
	});
}
