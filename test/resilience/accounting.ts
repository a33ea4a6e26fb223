/**
 * Checks shared by the resilience suites: read everything a workspace owns
 * and assert that every micro-dollar is accounted for.
 */
import { expect } from "vitest";
import type { Store } from "../../functions/store/client.ts";
import type {
	ApiKeyItem,
	BalanceItem,
	LedgerEntryItem,
	ReceiptItem,
	ReservationItem,
	UsageEventItem,
} from "../../functions/store/items.ts";
import { checkLedger } from "../../functions/store/ledger-check.ts";
import { queryItems } from "../../functions/store/query.ts";
import { keys } from "../../shared/table.ts";
import { readKey } from "../setup/gateway.ts";

export interface WorkspaceRecords {
	balance: BalanceItem | undefined;
	usage: UsageEventItem[];
	ledger: LedgerEntryItem[];
	receipts: ReceiptItem[];
	reservations: ReservationItem[];
	/** Every item of the workspace partition, raw. */
	all: Record<string, unknown>[];
}

/** Reads the whole workspace partition with a consistent read. */
export async function readWorkspace(
	store: Store,
	workspaceId: string,
): Promise<WorkspaceRecords> {
	const all = await queryItems<Record<string, unknown>>(store, {
		KeyConditionExpression: "pk = :pk",
		ExpressionAttributeValues: { ":pk": keys.workspace(workspaceId).pk },
		ConsistentRead: true,
	});
	const withPrefix = <T>(prefix: string) =>
		all.filter((item) => String(item.sk).startsWith(prefix)) as T[];
	return {
		balance: all.find((item) => item.sk === "BALANCE") as
			| BalanceItem
			| undefined,
		usage: withPrefix<UsageEventItem>("USAGE#"),
		ledger: withPrefix<LedgerEntryItem>("LEDGER#"),
		receipts: withPrefix<ReceiptItem>("RECEIPT#"),
		reservations: withPrefix<ReservationItem>("RESV#"),
		all,
	};
}

/** Ids that occur more than once. */
export function duplicates(ids: readonly string[]): string[] {
	const seen = new Set<string>();
	const repeated = new Set<string>();
	for (const id of ids) {
		if (seen.has(id)) repeated.add(id);
		seen.add(id);
	}
	return [...repeated];
}

/**
 * Asserts the money invariants of one workspace. The ledger check must find
 * no problem, and nothing may be reserved or negative. Each request is
 * charged at most once: one usage event, one charge ledger entry and one
 * usage receipt. Each key's spend stays within its budget.
 */
export async function expectWorkspaceAccounted(
	store: Store,
	workspaceId: string,
	apiKeys: readonly ApiKeyItem[],
): Promise<WorkspaceRecords> {
	const report = await checkLedger(store, { workspaceId });
	const records = await readWorkspace(store, workspaceId);
	const charges = records.ledger.filter((entry) => entry.kind === "charge");
	const usageReceipts = records.receipts.filter(
		(receipt) => receipt.kind === "usage",
	);

	expect(report.workspaces[0]?.problems, `ledger of ${workspaceId}`).toEqual(
		[],
	);
	expect(records.reservations, `open reservations of ${workspaceId}`).toEqual(
		[],
	);
	expect(records.balance?.availableMicroUsd).toBeGreaterThanOrEqual(0);
	expect(records.balance?.reservedMicroUsd).toBe(0);
	expect(
		duplicates(records.usage.map((event) => event.requestId)),
		"request ids with more than one usage event",
	).toEqual([]);
	expect(
		duplicates(charges.map((entry) => entry.requestId ?? "")),
		"request ids with more than one charge",
	).toEqual([]);
	expect(
		duplicates(usageReceipts.map((receipt) => receipt.requestId ?? "")),
		"request ids with more than one receipt",
	).toEqual([]);
	expect(charges).toHaveLength(records.usage.length);
	expect(usageReceipts).toHaveLength(records.usage.length);
	for (const apiKey of apiKeys) {
		const stored = await readKey(store, apiKey);
		expect(stored.reservedMicroUsd, `reserved of ${apiKey.keyId}`).toBe(0);
		if (stored.budgetMicroUsd !== undefined) {
			expect(
				stored.spentMicroUsd,
				`spend of ${apiKey.keyId} against its budget`,
			).toBeLessThanOrEqual(stored.budgetMicroUsd);
		}
	}
	return records;
}

/** Deterministic pseudo-random numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/** Runs `work` over the items with at most `concurrency` in flight. */
export async function runConcurrently<T>(
	items: readonly T[],
	concurrency: number,
	work: (item: T, index: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			await work(items[index] as T, index);
		}
	};
	await Promise.all(
		Array.from({ length: Math.min(concurrency, items.length) }, worker),
	);
}
