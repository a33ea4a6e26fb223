import {
	DeleteCommand,
	PutCommand,
	UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createApiKey, rotateApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import { topUpCredit } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import type {
	ApiKeyItem,
	LedgerEntryItem,
	ReceiptItem,
	ReservationItem,
} from "../../functions/store/items.ts";
import { checkLedger } from "../../functions/store/ledger-check.ts";
import {
	releaseReservation,
	reserveCredit,
	settleCharge,
} from "../../functions/store/metering.ts";
import { keys } from "../../shared/table.ts";
import { isolatedStore, newWorkspace, settleInput } from "../setup/store.ts";

// Tests here tamper with items, so they use a table of this file's own: a
// check of every workspace elsewhere must not see these broken workspaces.
const store = await isolatedStore("ledger-check");

async function reserve(target: Store, key: ApiKeyItem, amountMicroUsd: number) {
	return reserveCredit(target, {
		requestId: newRequestId(),
		workspaceId: key.workspaceId,
		keyId: key.keyId,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		model: "gpt-4o-mini",
		amountMicroUsd,
		expiresAt: new Date(Date.now() + 60_000),
	});
}

/** Reserves 400,000 micro-USD and settles a charge of `chargeMicroUsd`. */
async function charge(target: Store, key: ApiKeyItem, chargeMicroUsd: number) {
	const reservation = await reserve(target, key, 400_000);
	await settle(target, key, reservation, chargeMicroUsd);
	return reservation.requestId;
}

function settle(
	target: Store,
	key: ApiKeyItem,
	reservation: ReservationItem,
	chargeMicroUsd: number,
) {
	return settleCharge(target, settleInput(key, reservation, chargeMicroUsd));
}

/**
 * Creates a consistent workspace: $10 opening credit, a $1 top-up, a key with a $5
 * budget, one settled charge of $0.25 and one open reservation of $0.10.
 */
async function busyWorkspace(target: Store = store) {
	const workspace = await newWorkspace(target, { creditUsd: "10" });
	const workspaceId = workspace.workspaceId;
	await topUpCredit(target, {
		workspaceId,
		amountMicroUsd: 1_000_000,
		actor: "test",
		sellerOfRecord: "Test seller",
	});
	const { item: key } = await createApiKey(target, {
		workspaceId,
		cell: workspace.cell,
		name: "ledger",
		scopes: ["chat.completions"],
		budgetMicroUsd: 5_000_000,
		actor: "test",
	});
	const requestId = await charge(target, key, 250_000);
	await reserve(target, key, 100_000);
	return { workspaceId, key, requestId };
}

function update(
	key: Record<string, string>,
	expression: string,
	values: Record<string, unknown>,
) {
	return store.doc.send(
		new UpdateCommand({
			TableName: store.tableName,
			Key: key,
			UpdateExpression: expression,
			...(Object.keys(values).length > 0
				? { ExpressionAttributeValues: values }
				: {}),
		}),
	);
}

function put(item: Record<string, unknown>) {
	return store.doc.send(
		new PutCommand({ TableName: store.tableName, Item: item }),
	);
}

function remove(key: Record<string, string>) {
	return store.doc.send(
		new DeleteCommand({ TableName: store.tableName, Key: key }),
	);
}

type Workspace = Awaited<ReturnType<typeof busyWorkspace>>;

const tamperings: [string, (ws: Workspace) => Promise<unknown>, string][] = [
	[
		"available credit off by one",
		(ws) =>
			update(keys.balance(ws.workspaceId), "ADD availableMicroUsd :one", {
				":one": 1,
			}),
		"Balance does not match the ledger: available $10.650001 + reserved $0.10 = $10.750001, but the ledger entries sum to $10.75 (difference $0.000001).",
	],
	[
		"reserved credit without reservation",
		(ws) =>
			update(
				keys.balance(ws.workspaceId),
				"ADD availableMicroUsd :minus, reservedMicroUsd :one",
				{ ":minus": -1, ":one": 1 },
			),
		"Reserved credit does not match the open reservations: the balance has $0.100001 reserved, but the open reservations total $0.10 (1 reservation).",
	],
	[
		"negative available credit",
		(ws) =>
			update(keys.balance(ws.workspaceId), "SET availableMicroUsd = :value", {
				":value": -5,
			}),
		"Negative balance: available credit is -$0.000005.",
	],
	[
		"missing charge ledger entry",
		(ws) => remove(keys.ledgerEntry(ws.workspaceId, ws.requestId)),
		"has 0 charge ledger entries. Expected exactly one of -$0.25.",
	],
	[
		"duplicate charge ledger entry",
		(ws) =>
			put({
				...keys.ledgerEntry(ws.workspaceId, newRequestId()),
				entity: "ledgerEntry",
				entryId: "duplicate",
				workspaceId: ws.workspaceId,
				kind: "charge",
				amountMicroUsd: -250_000,
				requestId: ws.requestId,
				createdAt: new Date().toISOString(),
			} satisfies LedgerEntryItem),
		"has 2 charge ledger entries. Expected exactly one of -$0.25.",
	],
	[
		"charge entry of another amount",
		(ws) =>
			update(
				keys.ledgerEntry(ws.workspaceId, ws.requestId),
				"SET amountMicroUsd = :value",
				{ ":value": -249_999 },
			),
		"is -$0.249999, but its usage event charged $0.25. The entry must be -$0.25.",
	],
	[
		"missing usage receipt",
		(ws) => remove(keys.receipt(ws.workspaceId, ws.requestId)),
		"has 0 usage receipts. Expected exactly one of $0.25.",
	],
	[
		"receipt of another amount",
		(ws) =>
			update(
				keys.receipt(ws.workspaceId, ws.requestId),
				"SET amountMicroUsd = :value",
				{ ":value": 1 },
			),
		"is for $0.000001, but its usage event charged $0.25.",
	],
	[
		"charge entry without usage event",
		(ws) =>
			put({
				...keys.ledgerEntry(ws.workspaceId, "req_ORPHAN"),
				entity: "ledgerEntry",
				entryId: "req_ORPHAN",
				workspaceId: ws.workspaceId,
				kind: "charge",
				amountMicroUsd: -7,
				requestId: "req_ORPHAN",
				createdAt: new Date().toISOString(),
			} satisfies LedgerEntryItem),
		"Charge ledger entry req_ORPHAN of -$0.000007 has no usage event for request req_ORPHAN.",
	],
	[
		"usage receipt without usage event",
		(ws) =>
			put({
				...keys.receipt(ws.workspaceId, "req_ORPHAN"),
				entity: "receipt",
				receiptId: "req_ORPHAN",
				workspaceId: ws.workspaceId,
				kind: "usage",
				amountMicroUsd: 7,
				requestId: "req_ORPHAN",
				sellerOfRecord: "Test seller",
				description: "orphan",
				createdAt: new Date().toISOString(),
			} satisfies ReceiptItem),
		"Usage receipt req_ORPHAN of $0.000007 has no usage event for request req_ORPHAN.",
	],
	[
		"key spend off by one",
		(ws) =>
			update(keys.apiKey(ws.key.keyHash), "ADD spentMicroUsd :one", {
				":one": 1,
			}),
		"spent is $0.250001, but its usage charges total $0.25.",
	],
	[
		"key reserved off by one",
		(ws) =>
			update(keys.apiKey(ws.key.keyHash), "ADD reservedMicroUsd :one", {
				":one": 1,
			}),
		"reserved is $0.100001, but its open reservations total $0.10 (1 reservation).",
	],
	[
		"spend over the budget",
		(ws) =>
			update(
				keys.apiKey(ws.key.keyHash),
				"SET budgetMicroUsd = :budget, budgetRemainingMicroUsd = :remaining",
				{ ":budget": 200_000, ":remaining": 200_000 - 250_000 - 100_000 },
			),
		"spent $0.25 exceeds its budget of $0.20.",
	],
	[
		"remaining budget off by one",
		(ws) =>
			update(keys.apiKey(ws.key.keyHash), "ADD budgetRemainingMicroUsd :one", {
				":one": 1,
			}),
		"remaining budget is $4.650001, but budget − spent − reserved is $4.65.",
	],
	[
		"remaining budget without budget",
		(ws) => update(keys.apiKey(ws.key.keyHash), "REMOVE budgetMicroUsd", {}),
		"remaining budget is $4.65, but the key has no budget. Remove the attribute or set a budget.",
	],
];

describe("checkLedger", () => {
	it("passes a consistent workspace", async () => {
		const { workspaceId } = await busyWorkspace();

		const result = await checkLedger(store, { workspaceId });

		const [report] = result.workspaces;
		expect(result.ok).toBe(true);
		expect(result.workspaces).toHaveLength(1);
		expect(report?.problems).toEqual([]);
		expect(report?.availableMicroUsd).toBe(10_650_000);
		expect(report?.reservedMicroUsd).toBe(100_000);
		expect(report?.ledgerSumMicroUsd).toBe(10_750_000);
		expect(report?.openReservationsMicroUsd).toBe(100_000);
	});

	it("passes after a release", async () => {
		const { workspaceId, key } = await busyWorkspace();
		const reservation = await reserve(store, key, 300_000);
		await releaseReservation(store, {
			reservation,
			keyHash: key.keyHash,
			keyHasBudget: true,
		});

		const result = await checkLedger(store, { workspaceId });

		expect(result.workspaces[0]?.problems).toEqual([]);
		expect(result.ok).toBe(true);
	});

	it("passes a rotated key", async () => {
		const { workspaceId, key } = await busyWorkspace();
		const inFlight = await reserve(store, key, 20_000);
		const rotated = await rotateApiKey(store, {
			keyId: key.keyId,
			actor: "test",
		});
		await charge(store, rotated.item, 50_000);
		await settle(store, key, inFlight, 10_000);

		const result = await checkLedger(store, { workspaceId });

		expect(result.workspaces[0]?.problems).toEqual([]);
		expect(result.ok).toBe(true);
	});

	it("passes a key rotated mid-traffic", async () => {
		const { workspaceId, key } = await busyWorkspace();
		const reservations = await Promise.all(
			Array.from({ length: 8 }, () => reserve(store, key, 20_000)),
		);

		const [rotated] = await Promise.all([
			rotateApiKey(store, { keyId: key.keyId, actor: "test" }),
			...reservations.map((reservation, index) =>
				settle(store, key, reservation, 1_000 + index),
			),
		]);
		await charge(store, rotated.item, 5_000);

		const result = await checkLedger(store, { workspaceId });
		expect(result.workspaces[0]?.problems).toEqual([]);
		expect(result.ok).toBe(true);
	});

	it("rejects an unknown workspace", async () => {
		const error = await checkLedger(store, { workspaceId: "ws_NOPE" }).catch(
			(e: unknown) => e,
		);

		expect((error as { status: number }).status).toBe(404);
		expect((error as Error).message).toContain("ws_NOPE");
	});

	it.each(tamperings)("reports %s", async (_case, tamper, expected) => {
		const workspace = await busyWorkspace();
		await tamper(workspace);

		const result = await checkLedger(store, {
			workspaceId: workspace.workspaceId,
		});

		const problems = result.workspaces[0]?.problems ?? [];
		expect(result.ok).toBe(false);
		expect(problems).toContainEqual(expect.stringContaining(expected));
	});

	it("checks every workspace in the table", async () => {
		const isolated = await isolatedStore("ledger-scan");
		const clean = await busyWorkspace(isolated);
		const broken = await busyWorkspace(isolated);
		await isolated.doc.send(
			new UpdateCommand({
				TableName: isolated.tableName,
				Key: keys.balance(broken.workspaceId),
				UpdateExpression: "ADD availableMicroUsd :one",
				ExpressionAttributeValues: { ":one": 1 },
			}),
		);

		const result = await checkLedger(isolated);

		const ids = result.workspaces.map((report) => report.workspaceId);
		const cleanReport = result.workspaces.find(
			(report) => report.workspaceId === clean.workspaceId,
		);
		const brokenReport = result.workspaces.find(
			(report) => report.workspaceId === broken.workspaceId,
		);
		expect(ids).toEqual([clean.workspaceId, broken.workspaceId].sort());
		expect(result.ok).toBe(false);
		expect(cleanReport?.problems).toEqual([]);
		expect(brokenReport?.problems).toHaveLength(1);
	});
});
