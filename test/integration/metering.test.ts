import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import type { ApiKeyItem } from "../../functions/store/items.ts";
import {
	ReservationRefused,
	releaseReservation,
	reserveCredit,
	settleCharge,
} from "../../functions/store/metering.ts";
import { keys } from "../../shared/table.ts";
import {
	expectLedgerReconciles,
	newWorkspace,
	settleInput,
	testStore,
} from "../setup/store.ts";

const store = testStore();

async function workspaceWithKey(creditUsd: string, budgetMicroUsd?: number) {
	const workspace = await newWorkspace(store, { creditUsd });
	const { item } = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell: workspace.cell,
		name: "metering",
		scopes: ["chat.completions"],
		actor: "test",
		...(budgetMicroUsd === undefined ? {} : { budgetMicroUsd }),
	});
	return { workspace, key: item };
}

function reserveFor(
	key: ApiKeyItem,
	amountMicroUsd: number,
	requestId = newRequestId(),
) {
	return reserveCredit(store, {
		requestId,
		workspaceId: key.workspaceId,
		keyId: key.keyId,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		model: "gpt-4o-mini",
		amountMicroUsd,
		expiresAt: new Date(Date.now() + 60_000),
	});
}

async function keyItem(
	testStoreValue: Store,
	key: ApiKeyItem,
): Promise<ApiKeyItem> {
	const result = await testStoreValue.doc.send(
		new GetCommand({
			TableName: testStoreValue.tableName,
			Key: keys.apiKey(key.keyHash),
			ConsistentRead: true,
		}),
	);
	return result.Item as ApiKeyItem;
}

describe("reserveCredit", () => {
	it("moves credit from available to reserved", async () => {
		const { workspace, key } = await workspaceWithKey("1");

		await reserveFor(key, 250_000);

		const balance = await getBalance(store, workspace.workspaceId);
		expect(balance?.availableMicroUsd).toBe(750_000);
		expect(balance?.reservedMicroUsd).toBe(250_000);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("rejects a short balance", async () => {
		const { workspace, key } = await workspaceWithKey("0.01");

		const refused = await reserveFor(key, 10_001).catch(
			(error: unknown) => error,
		);

		expect(refused).toBeInstanceOf(ReservationRefused);
		expect((refused as ReservationRefused).failure).toEqual({
			reason: "balance",
			availableMicroUsd: 10_000,
		});
		expect(
			(await getBalance(store, workspace.workspaceId))?.availableMicroUsd,
		).toBe(10_000);
	});

	it("rejects past the key budget", async () => {
		const { key } = await workspaceWithKey("10", 5_000);

		const refused = await reserveFor(key, 5_001).catch(
			(error: unknown) => error,
		);

		expect((refused as ReservationRefused).failure.reason).toBe("key_budget");
	});

	it("never overdraws under concurrency", async () => {
		const { workspace, key } = await workspaceWithKey("0.01", 10_000);

		const results = await Promise.allSettled(
			Array.from({ length: 10 }, () => reserveFor(key, 4_000)),
		);

		const granted = results.filter(
			(result) => result.status === "fulfilled",
		).length;
		expect(granted).toBe(2);
		const balance = await getBalance(store, workspace.workspaceId);
		expect(balance?.availableMicroUsd).toBe(2_000);
		expect((await keyItem(store, key)).budgetRemainingMicroUsd).toBe(2_000);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});
});

describe("settleCharge", () => {
	it("debits the actual charge once", async () => {
		const { workspace, key } = await workspaceWithKey("1", 500_000);
		const reservation = await reserveFor(key, 100_000);

		const first = await settleCharge(
			store,
			settleInput(key, reservation, 5_615),
		);
		const second = await settleCharge(
			store,
			settleInput(key, reservation, 5_615),
		);

		expect(first.settled).toBe(true);
		expect(second.settled).toBe(false);
		const balance = await getBalance(store, workspace.workspaceId);
		expect(balance?.availableMicroUsd).toBe(1_000_000 - 5_615);
		expect(balance?.reservedMicroUsd).toBe(0);
		const item = await keyItem(store, key);
		expect(item.spentMicroUsd).toBe(5_615);
		expect(item.reservedMicroUsd).toBe(0);
		expect(item.budgetRemainingMicroUsd).toBe(500_000 - 5_615);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("records margin and receipt", async () => {
		const { workspace, key } = await workspaceWithKey("1");
		const reservation = await reserveFor(key, 10_000);

		const { usageEvent } = await settleCharge(
			store,
			settleInput(key, reservation, 3_001),
		);

		expect(usageEvent?.chargeMicroUsd).toBe(3_001);
		expect(usageEvent?.providerCostMicroUsd).toBe(1_500);
		expect(usageEvent?.grossMarginMicroUsd).toBe(1_501);
		const receipt = await store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.receipt(workspace.workspaceId, reservation.requestId),
			}),
		);
		expect(receipt.Item?.amountMicroUsd).toBe(3_001);
	});

	it("caps an overrun at the balance", async () => {
		const { workspace, key } = await workspaceWithKey("0.01");
		const reservation = await reserveFor(key, 8_000);

		const { usageEvent } = await settleCharge(
			store,
			settleInput(key, reservation, 12_000),
		);

		expect(usageEvent?.chargeMicroUsd).toBe(10_000);
		expect(usageEvent?.uncollectedMicroUsd).toBe(2_000);
		expect(
			(await getBalance(store, workspace.workspaceId))?.availableMicroUsd,
		).toBe(0);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("settles after a release only once", async () => {
		const { workspace, key } = await workspaceWithKey("1");
		const reservation = await reserveFor(key, 10_000);

		const released = await releaseReservation(store, {
			reservation,
			keyHash: key.keyHash,
			keyHasBudget: false,
		});
		const settled = await settleCharge(
			store,
			settleInput(key, reservation, 1_000),
		);

		expect(released).toBe(true);
		expect(settled.settled).toBe(false);
		expect(
			(await getBalance(store, workspace.workspaceId))?.availableMicroUsd,
		).toBe(1_000_000);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("keeps the ledger exact under concurrency", async () => {
		const { workspace, key } = await workspaceWithKey("1");
		const reservations = await Promise.all(
			Array.from({ length: 30 }, () => reserveFor(key, 20_000)),
		);

		await Promise.all(
			reservations.map((reservation, index) =>
				settleCharge(store, settleInput(key, reservation, 1_000 + index)),
			),
		);

		const expectedSpend = reservations.reduce(
			(sum, _, index) => sum + 1_000 + index,
			0,
		);
		expect(
			(await getBalance(store, workspace.workspaceId))?.availableMicroUsd,
		).toBe(1_000_000 - expectedSpend);
		expect((await keyItem(store, key)).spentMicroUsd).toBe(expectedSpend);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("rejects a revoked key at reservation", async () => {
		const { key } = await workspaceWithKey("1");
		await store.doc.send(
			new UpdateCommand({
				TableName: store.tableName,
				Key: keys.apiKey(key.keyHash),
				UpdateExpression: "SET #status = :revoked",
				ExpressionAttributeNames: { "#status": "status" },
				ExpressionAttributeValues: { ":revoked": "revoked" },
			}),
		);

		const refused = await reserveFor(key, 1_000).catch(
			(error: unknown) => error,
		);

		expect(refused).toBeInstanceOf(ReservationRefused);
	});
});

describe("reserveCredit rate limits", () => {
	it("refuses past the request limit", async () => {
		const { key } = await workspaceWithKey("1");
		const limits = { requestsPerMinute: 2, tokens: 100 };
		const now = new Date("2026-12-04T10:00:10Z");
		const reserve = () =>
			reserveCredit(store, {
				requestId: newRequestId(),
				workspaceId: key.workspaceId,
				keyId: key.keyId,
				keyHash: key.keyHash,
				keyHasBudget: false,
				model: "gpt-4o-mini",
				amountMicroUsd: 10,
				expiresAt: new Date(now.getTime() + 60_000),
				rateLimit: limits,
				now,
			});

		await reserve();
		await reserve();
		const refused = await reserve().catch((error: unknown) => error);

		expect((refused as ReservationRefused).failure).toEqual({
			reason: "rate_limit",
			limit: "requests",
			limitValue: 2,
			retryAfterSeconds: 50,
		});
	});

	it("refuses past the token limit", async () => {
		const { workspace, key } = await workspaceWithKey("1");
		const reserve = (tokens: number) =>
			reserveCredit(store, {
				requestId: newRequestId(),
				workspaceId: key.workspaceId,
				keyId: key.keyId,
				keyHash: key.keyHash,
				keyHasBudget: false,
				model: "gpt-4o-mini",
				amountMicroUsd: 10,
				expiresAt: new Date(Date.now() + 60_000),
				rateLimit: { tokensPerMinute: 1_000, tokens },
			});

		await reserve(600);
		const refused = await reserve(600).catch((error: unknown) => error);

		expect((refused as ReservationRefused).failure).toMatchObject({
			reason: "rate_limit",
			limit: "tokens",
		});
		expect(
			(await getBalance(store, workspace.workspaceId))?.reservedMicroUsd,
		).toBe(10);
	});
});

describe("releaseReservation idempotency", () => {
	it("clears the idempotency record", async () => {
		const { key } = await workspaceWithKey("1");
		const reservation = await reserveCredit(store, {
			requestId: newRequestId(),
			workspaceId: key.workspaceId,
			keyId: key.keyId,
			keyHash: key.keyHash,
			keyHasBudget: false,
			model: "gpt-4o-mini",
			amountMicroUsd: 100,
			expiresAt: new Date(Date.now() + 60_000),
			idempotency: { key: "retry-me", bodyHash: "abc" },
		});

		const released = await releaseReservation(store, {
			reservation,
			keyHash: key.keyHash,
			keyHasBudget: false,
			...(reservation.idempotencyKey
				? { idempotencyKey: reservation.idempotencyKey }
				: {}),
		});

		expect(released).toBe(true);
		expect(reservation.idempotencyKey).toBe("retry-me");
		const record = await store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.idempotency(key.workspaceId, key.keyId, "retry-me"),
				ConsistentRead: true,
			}),
		);
		expect(record.Item).toBeUndefined();
	});
});
