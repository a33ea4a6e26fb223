/**
 * Ledger invariant check for operators: reads a workspace's balance, ledger,
 * usage events, receipts, reservations and keys, and lists every place where
 * they disagree. It writes nothing.
 */
import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { formatUsd } from "../../shared/money.ts";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import { listApiKeys } from "./api-keys.ts";
import type { Store } from "./client.ts";
import type {
	ApiKeyItem,
	BalanceItem,
	LedgerEntryItem,
	ReceiptItem,
	ReservationItem,
	UsageEventItem,
	WorkspaceItem,
} from "./items.ts";
import { queryItems } from "./query.ts";
import { workspaceNotFound } from "./workspaces.ts";

export interface WorkspaceLedgerReport {
	workspaceId: string;
	availableMicroUsd: number;
	reservedMicroUsd: number;
	/** Sum of every ledger entry, signed. */
	ledgerSumMicroUsd: number;
	/** Sum of the workspace's open reservations. */
	openReservationsMicroUsd: number;
	/** One sentence per broken invariant, empty when the workspace is consistent. */
	problems: string[];
}

export interface LedgerCheckResult {
	workspaces: WorkspaceLedgerReport[];
	/** True when no workspace has a problem. */
	ok: boolean;
}

/**
 * Checks the ledger invariants of one workspace, or of every workspace in
 * the cell:
 *
 * - available + reserved equals the sum of the ledger entries;
 * - reserved equals the sum of open reservations, and neither part is negative;
 * - each usage event has exactly one charge ledger entry of the negated
 *   charge and exactly one usage receipt of the charge;
 * - each charge ledger entry and usage receipt has a usage event;
 * - each key's spent equals its usage charges plus the spend carried over
 *   from the keys it was rotated from, and its reserved equals its open
 *   reservations;
 * - a key with a budget has spent no more than it, and its remaining budget
 *   equals budget − spent − reserved.
 *
 * Without `workspaceId` the workspaces are found with a filtered Scan of the
 * whole table. That reads every item, which is acceptable for an operator
 * command but not for a request path.
 *
 * The reads are not one snapshot, so a request that settles during the check
 * can make the items disagree for a moment. A workspace with problems is
 * therefore read and checked a second time, and only the second result is
 * reported.
 *
 * @throws GatewayError 404 when `workspaceId` names no workspace.
 */
export async function checkLedger(
	store: Store,
	options: { workspaceId?: string } = {},
): Promise<LedgerCheckResult> {
	const workspaceIds = options.workspaceId
		? [await requireWorkspace(store, options.workspaceId)]
		: await scanWorkspaceIds(store);

	const workspaces: WorkspaceLedgerReport[] = [];
	for (const workspaceId of workspaceIds) {
		let report = checkWorkspace(await readWorkspace(store, workspaceId));
		if (report.problems.length > 0) {
			report = checkWorkspace(await readWorkspace(store, workspaceId));
		}
		workspaces.push(report);
	}
	return {
		workspaces,
		ok: workspaces.every((report) => report.problems.length === 0),
	};
}

async function requireWorkspace(
	store: Store,
	workspaceId: string,
): Promise<string> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.workspace(workspaceId),
		}),
	);
	if (!result.Item) throw workspaceNotFound(workspaceId);
	return workspaceId;
}

/** Ids of every workspace in the table, from a filtered Scan, sorted. */
async function scanWorkspaceIds(store: Store): Promise<string[]> {
	const ids: string[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await store.doc.send(
			new ScanCommand({
				TableName: store.tableName,
				FilterExpression: "sk = :meta AND entity = :workspace",
				ExpressionAttributeValues: {
					":meta": "META",
					":workspace": "workspace",
				},
				ProjectionExpression: "workspaceId",
				ExclusiveStartKey: startKey,
			}),
		);
		for (const item of page.Items ?? []) {
			ids.push((item as Pick<WorkspaceItem, "workspaceId">).workspaceId);
		}
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return ids.sort();
}

interface WorkspaceRecords {
	workspaceId: string;
	balance: BalanceItem | undefined;
	ledger: LedgerEntryItem[];
	usage: UsageEventItem[];
	receipts: ReceiptItem[];
	reservations: ReservationItem[];
	apiKeys: ApiKeyItem[];
}

async function readWorkspace(
	store: Store,
	workspaceId: string,
): Promise<WorkspaceRecords> {
	const pk = keys.workspace(workspaceId).pk;
	const byPrefix = <T>(prefix: string) =>
		queryItems<T>(store, {
			KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
			ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
			ConsistentRead: true,
		});
	const [balance, ledger, usage, receipts, reservations, apiKeys] =
		await Promise.all([
			store.doc
				.send(
					new GetCommand({
						TableName: store.tableName,
						Key: keys.balance(workspaceId),
						ConsistentRead: true,
					}),
				)
				.then((result) => result.Item as BalanceItem | undefined),
			byPrefix<LedgerEntryItem>(SORT_PREFIX.ledger),
			byPrefix<UsageEventItem>(SORT_PREFIX.usage),
			byPrefix<ReceiptItem>(SORT_PREFIX.receipt),
			byPrefix<ReservationItem>(SORT_PREFIX.reservation),
			readApiKeys(store, workspaceId),
		]);
	return {
		workspaceId,
		balance,
		ledger,
		usage,
		receipts,
		reservations,
		apiKeys,
	};
}

/**
 * Lists the workspace's keys through gsi1, then reads each table item with
 * a consistent read, because the index can lag behind spend and
 * reservations.
 */
async function readApiKeys(
	store: Store,
	workspaceId: string,
): Promise<ApiKeyItem[]> {
	const listed = await listApiKeys(store, workspaceId);
	const items = await Promise.all(
		listed.map(async (key) => {
			const result = await store.doc.send(
				new GetCommand({
					TableName: store.tableName,
					Key: keys.apiKey(key.keyHash),
					ConsistentRead: true,
				}),
			);
			return (result.Item as ApiKeyItem | undefined) ?? key;
		}),
	);
	return items;
}

function checkWorkspace(records: WorkspaceRecords): WorkspaceLedgerReport {
	const available = records.balance?.availableMicroUsd ?? 0;
	const reserved = records.balance?.reservedMicroUsd ?? 0;
	const ledgerSum = sum(records.ledger.map((entry) => entry.amountMicroUsd));
	const openReservations = sum(
		records.reservations.map((reservation) => reservation.amountMicroUsd),
	);
	const problems = [
		...balanceProblems(records, ledgerSum, openReservations),
		...usageProblems(records),
		...keyProblems(records),
	];
	return {
		workspaceId: records.workspaceId,
		availableMicroUsd: available,
		reservedMicroUsd: reserved,
		ledgerSumMicroUsd: ledgerSum,
		openReservationsMicroUsd: openReservations,
		problems,
	};
}

function balanceProblems(
	records: WorkspaceRecords,
	ledgerSum: number,
	openReservations: number,
): string[] {
	const { balance } = records;
	if (!balance) {
		return [
			`The balance item is missing, but the ledger entries sum to ${formatUsd(ledgerSum)}.`,
		];
	}
	const problems: string[] = [];
	const { availableMicroUsd: available, reservedMicroUsd: reserved } = balance;
	if (available + reserved !== ledgerSum) {
		problems.push(
			`Balance does not match the ledger: available ${formatUsd(available)} + reserved ${formatUsd(reserved)} = ${formatUsd(available + reserved)}, but the ledger entries sum to ${formatUsd(ledgerSum)} (difference ${formatUsd(available + reserved - ledgerSum)}).`,
		);
	}
	if (reserved !== openReservations) {
		problems.push(
			`Reserved credit does not match the open reservations: the balance has ${formatUsd(reserved)} reserved, but the open reservations total ${formatUsd(openReservations)} (${plural(records.reservations.length, "reservation", "reservations")}).`,
		);
	}
	if (available < 0) {
		problems.push(
			`Negative balance: available credit is ${formatUsd(available)}.`,
		);
	}
	if (reserved < 0) {
		problems.push(
			`Negative balance: reserved credit is ${formatUsd(reserved)}.`,
		);
	}
	return problems;
}

function usageProblems(records: WorkspaceRecords): string[] {
	const problems: string[] = [];
	const charges = groupBy(
		records.ledger.filter((entry) => entry.kind === "charge"),
		(entry) => entry.requestId ?? "",
	);
	const usageReceipts = groupBy(
		records.receipts.filter((receipt) => receipt.kind === "usage"),
		(receipt) => receipt.requestId ?? "",
	);
	const usageIds = new Set(records.usage.map((event) => event.requestId));

	for (const event of records.usage) {
		const charge = event.chargeMicroUsd;
		const entries = charges.get(event.requestId) ?? [];
		if (entries.length !== 1) {
			problems.push(
				`Usage event ${event.requestId} has ${plural(entries.length, "charge ledger entry", "charge ledger entries")}. Expected exactly one of ${formatUsd(-charge)}.`,
			);
		} else if (entries[0]?.amountMicroUsd !== -charge) {
			problems.push(
				`Charge ledger entry of request ${event.requestId} is ${formatUsd(entries[0]?.amountMicroUsd ?? 0)}, but its usage event charged ${formatUsd(charge)}. The entry must be ${formatUsd(-charge)}.`,
			);
		}
		const receipts = usageReceipts.get(event.requestId) ?? [];
		if (receipts.length !== 1) {
			problems.push(
				`Usage event ${event.requestId} has ${plural(receipts.length, "usage receipt", "usage receipts")}. Expected exactly one of ${formatUsd(charge)}.`,
			);
		} else if (receipts[0]?.amountMicroUsd !== charge) {
			problems.push(
				`Receipt of request ${event.requestId} is for ${formatUsd(receipts[0]?.amountMicroUsd ?? 0)}, but its usage event charged ${formatUsd(charge)}.`,
			);
		}
	}

	for (const [requestId, entries] of charges) {
		if (usageIds.has(requestId)) continue;
		for (const entry of entries) {
			problems.push(
				`Charge ledger entry ${entry.entryId} of ${formatUsd(entry.amountMicroUsd)} has no usage event${requestId ? ` for request ${requestId}` : " and no request id"}.`,
			);
		}
	}
	for (const [requestId, receipts] of usageReceipts) {
		if (usageIds.has(requestId)) continue;
		for (const receipt of receipts) {
			problems.push(
				`Usage receipt ${receipt.receiptId} of ${formatUsd(receipt.amountMicroUsd)} has no usage event${requestId ? ` for request ${requestId}` : " and no request id"}.`,
			);
		}
	}
	return problems;
}

function keyProblems(records: WorkspaceRecords): string[] {
	const problems: string[] = [];
	const usageByKey = groupBy(records.usage, (event) => event.keyId);
	const reservationsByKey = groupBy(
		records.reservations,
		(reservation) => reservation.keyId,
	);
	const keysById = new Map(records.apiKeys.map((key) => [key.keyId, key]));

	for (const key of records.apiKeys) {
		const name = `Key ${key.keyId}`;
		const carried = carriedSpend(key, keysById, usageByKey);
		const expectedSpent =
			sum((usageByKey.get(key.keyId) ?? []).map((e) => e.chargeMicroUsd)) +
			carried;
		if (key.spentMicroUsd !== expectedSpent) {
			const source =
				carried > 0
					? `its usage charges plus ${formatUsd(carried)} carried over from rotated keys`
					: "its usage charges";
			problems.push(
				`${name}: spent is ${formatUsd(key.spentMicroUsd)}, but ${source} total ${formatUsd(expectedSpent)}.`,
			);
		}

		const open = reservationsByKey.get(key.keyId) ?? [];
		const openAmount = sum(open.map((r) => r.amountMicroUsd));
		if (key.reservedMicroUsd !== openAmount) {
			problems.push(
				`${name}: reserved is ${formatUsd(key.reservedMicroUsd)}, but its open reservations total ${formatUsd(openAmount)} (${plural(open.length, "reservation", "reservations")}).`,
			);
		}
		problems.push(...budgetProblems(key, name));
	}
	return problems;
}

function budgetProblems(key: ApiKeyItem, name: string): string[] {
	const budget = key.budgetMicroUsd;
	const remaining = key.budgetRemainingMicroUsd;
	if (budget === undefined) {
		return remaining === undefined
			? []
			: [
					`${name}: remaining budget is ${formatUsd(remaining)}, but the key has no budget. Remove the attribute or set a budget.`,
				];
	}
	const problems: string[] = [];
	if (key.spentMicroUsd > budget) {
		problems.push(
			`${name}: spent ${formatUsd(key.spentMicroUsd)} exceeds its budget of ${formatUsd(budget)}.`,
		);
	}
	const expected = budget - key.spentMicroUsd - key.reservedMicroUsd;
	if (remaining !== expected) {
		problems.push(
			`${name}: remaining budget is ${remaining === undefined ? "missing" : formatUsd(remaining)}, but budget − spent − reserved is ${formatUsd(expected)}.`,
		);
	}
	return problems;
}

/**
 * Spend a rotated key started with: rotation copies the old key's spent
 * amount into the new key, so the new key's spend is its own usage plus
 * what its predecessor had spent when the new key was created.
 */
function carriedSpend(
	key: ApiKeyItem,
	keysById: Map<string, ApiKeyItem>,
	usageByKey: Map<string, UsageEventItem[]>,
): number {
	let carried = 0;
	let successor = key;
	const seen = new Set([key.keyId]);
	while (successor.rotatedFromKeyId && !seen.has(successor.rotatedFromKeyId)) {
		const predecessor = keysById.get(successor.rotatedFromKeyId);
		if (!predecessor) break;
		// Usage settled on the old key after the rotation stays with the old key.
		const before = (usageByKey.get(predecessor.keyId) ?? []).filter(
			(event) => event.createdAt <= successor.createdAt,
		);
		carried += sum(before.map((event) => event.chargeMicroUsd));
		seen.add(predecessor.keyId);
		successor = predecessor;
	}
	return carried;
}

function plural(count: number, singular: string, pluralForm: string): string {
	return `${count} ${count === 1 ? singular : pluralForm}`;
}

function sum(values: number[]): number {
	return values.reduce((total, value) => total + value, 0);
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
	const groups = new Map<string, T[]>();
	for (const item of items) {
		const key = keyOf(item);
		const group = groups.get(key);
		if (group) group.push(item);
		else groups.set(key, [item]);
	}
	return groups;
}
