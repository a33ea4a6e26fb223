import { DeleteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import { getAuditEvent } from "../../functions/store/audit.ts";
import type { Store } from "../../functions/store/client.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import type {
	ApiKeyItem,
	ReservationItem,
} from "../../functions/store/items.ts";
import { reserveCredit } from "../../functions/store/metering.ts";
import { reconcileReservations } from "../../functions/store/reconcile.ts";
import { keys } from "../../shared/table.ts";
import {
	expectLedgerReconciles,
	isolatedStore,
	newWorkspace,
} from "../setup/store.ts";

async function workspaceWithKey(store: Store, budgetMicroUsd?: number) {
	const workspace = await newWorkspace(store, { creditUsd: "10" });
	const { item } = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell: workspace.cell,
		name: "reconcile",
		scopes: ["chat.completions"],
		actor: "test",
		...(budgetMicroUsd === undefined ? {} : { budgetMicroUsd }),
	});
	return { workspaceId: workspace.workspaceId, key: item };
}

function reserveFor(
	store: Store,
	key: ApiKeyItem,
	amountMicroUsd: number,
	expiresInMs: number,
): Promise<ReservationItem> {
	return reserveCredit(store, {
		requestId: newRequestId(),
		workspaceId: key.workspaceId,
		keyId: key.keyId,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		model: "gpt-4o-mini",
		amountMicroUsd,
		expiresAt: new Date(Date.now() + expiresInMs),
	});
}

async function keyItem(store: Store, key: ApiKeyItem): Promise<ApiKeyItem> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.apiKey(key.keyHash),
			ConsistentRead: true,
		}),
	);
	return result.Item as ApiKeyItem;
}

async function reservationExists(
	store: Store,
	reservation: ReservationItem,
): Promise<boolean> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.reservation(reservation.workspaceId, reservation.requestId),
			ConsistentRead: true,
		}),
	);
	return result.Item !== undefined;
}

// Each test gets its own table: a run releases every expired reservation in
// the table, so a shared table would let one test release another's.
describe("reconcileReservations", () => {
	it("releases expired reservations only", async () => {
		const store = await isolatedStore("reconcile");
		const { workspaceId, key } = await workspaceWithKey(store);
		const expired = [
			await reserveFor(store, key, 100_000, -120_000),
			await reserveFor(store, key, 200_000, -60_000),
			await reserveFor(store, key, 300_000, -1_000),
		];
		const live = await reserveFor(store, key, 400_000, 60_000);

		const result = await reconcileReservations(store);

		const balance = await getBalance(store, workspaceId);
		const keyAfter = await keyItem(store, key);
		expect(result.examined).toBe(3);
		expect(result.released).toBe(3);
		expect(result.alreadyDone).toBe(0);
		expect(result.failed).toBe(0);
		expect(result.pastExpiryBefore).toBe(3);
		expect(balance?.availableMicroUsd).toBe(9_600_000);
		expect(balance?.reservedMicroUsd).toBe(400_000);
		expect(keyAfter.reservedMicroUsd).toBe(400_000);
		expect(keyAfter.spentMicroUsd).toBe(0);
		expect(await reservationExists(store, live)).toBe(true);
		for (const reservation of expired) {
			expect(await reservationExists(store, reservation)).toBe(false);
		}
		await expectLedgerReconciles(store, workspaceId);
	});

	it("writes a reservation.expired audit event", async () => {
		const store = await isolatedStore("reconcile");
		const { workspaceId, key } = await workspaceWithKey(store);
		const reservation = await reserveFor(store, key, 123_456, -5_000);

		await reconcileReservations(store);

		const audit = await getAuditEvent(
			store,
			workspaceId,
			reservation.requestId,
		);
		expect(audit?.action).toBe("reservation.expired");
		expect(audit?.actor).toBe("reconciler");
		expect(audit?.details.amountMicroUsd).toBe(123_456);
		expect(audit?.details.keyId).toBe(key.keyId);
		expect(audit?.details.keyFound).toBe(true);
	});

	it("restores a key budget", async () => {
		const store = await isolatedStore("reconcile");
		const { key } = await workspaceWithKey(store, 1_000_000);
		await reserveFor(store, key, 700_000, -5_000);

		await reconcileReservations(store);

		const keyAfter = await keyItem(store, key);
		expect(keyAfter.reservedMicroUsd).toBe(0);
		expect(keyAfter.budgetRemainingMicroUsd).toBe(1_000_000);
	});

	it("releases when the key is gone", async () => {
		const store = await isolatedStore("reconcile");
		const { workspaceId, key } = await workspaceWithKey(store);
		const reservation = await reserveFor(store, key, 500_000, -5_000);
		await store.doc.send(
			new DeleteCommand({
				TableName: store.tableName,
				Key: keys.apiKey(key.keyHash),
			}),
		);

		const result = await reconcileReservations(store);

		const balance = await getBalance(store, workspaceId);
		const audit = await getAuditEvent(
			store,
			workspaceId,
			reservation.requestId,
		);
		expect(result.released).toBe(1);
		expect(result.failed).toBe(0);
		expect(balance?.availableMicroUsd).toBe(10_000_000);
		expect(balance?.reservedMicroUsd).toBe(0);
		expect(audit?.action).toBe("reservation.expired");
		expect(audit?.details.keyFound).toBe(false);
		await expectLedgerReconciles(store, workspaceId);
	});

	it("releases the oldest first up to the limit", async () => {
		const store = await isolatedStore("reconcile");
		const { key } = await workspaceWithKey(store);
		const oldest = await reserveFor(store, key, 1_000, -300_000);
		const older = await reserveFor(store, key, 1_000, -200_000);
		const newer = [
			await reserveFor(store, key, 1_000, -100_000),
			await reserveFor(store, key, 1_000, -50_000),
			await reserveFor(store, key, 1_000, -10_000),
		];

		const result = await reconcileReservations(store, { limit: 2 });

		expect(result.examined).toBe(2);
		expect(result.released).toBe(2);
		expect(result.pastExpiryBefore).toBe(5);
		expect(await reservationExists(store, oldest)).toBe(false);
		expect(await reservationExists(store, older)).toBe(false);
		for (const reservation of newer) {
			expect(await reservationExists(store, reservation)).toBe(true);
		}
	});

	it("honors an earlier cutoff", async () => {
		const store = await isolatedStore("reconcile");
		const { key } = await workspaceWithKey(store);
		const old = await reserveFor(store, key, 1_000, -600_000);
		const recent = await reserveFor(store, key, 1_000, -1_000);

		const result = await reconcileReservations(store, {
			now: new Date(Date.now() - 300_000),
		});

		expect(result.released).toBe(1);
		expect(result.pastExpiryBefore).toBe(1);
		expect(await reservationExists(store, old)).toBe(false);
		expect(await reservationExists(store, recent)).toBe(true);
	});

	it("rejects a cutoff in the future", async () => {
		const store = await isolatedStore("reconcile");

		const error = await reconcileReservations(store, {
			now: new Date(Date.now() + 60_000),
		}).catch((e: unknown) => e);

		expect(error).toBeInstanceOf(RangeError);
		expect((error as Error).message).toContain("later than the current time");
	});

	it("rejects an invalid limit", async () => {
		const store = await isolatedStore("reconcile");

		const error = await reconcileReservations(store, { limit: 0 }).catch(
			(e: unknown) => e,
		);

		expect(error).toBeInstanceOf(RangeError);
		expect((error as Error).message).toContain("limit 0");
	});

	it("changes nothing on a second run", async () => {
		const store = await isolatedStore("reconcile");
		const { workspaceId, key } = await workspaceWithKey(store);
		await reserveFor(store, key, 250_000, -5_000);
		await reconcileReservations(store);
		const before = await getBalance(store, workspaceId);

		const second = await reconcileReservations(store);

		const after = await getBalance(store, workspaceId);
		expect(second.examined).toBe(0);
		expect(second.released).toBe(0);
		expect(second.pastExpiryBefore).toBe(0);
		expect(after?.availableMicroUsd).toBe(before?.availableMicroUsd);
		expect(after?.updatedAt).toBe(before?.updatedAt);
	});

	it("releases each once under concurrency", async () => {
		const store = await isolatedStore("reconcile");
		const { workspaceId, key } = await workspaceWithKey(store, 5_000_000);
		const amounts = Array.from({ length: 20 }, (_, i) => 10_000 + i);
		const reservations = await Promise.all(
			amounts.map((amount) => reserveFor(store, key, amount, -5_000)),
		);

		const runs = await Promise.all([
			reconcileReservations(store),
			reconcileReservations(store),
			reconcileReservations(store),
		]);

		const balance = await getBalance(store, workspaceId);
		const keyAfter = await keyItem(store, key);
		const audits = await Promise.all(
			reservations.map((r) => getAuditEvent(store, workspaceId, r.requestId)),
		);
		const released = runs.reduce((sum, run) => sum + run.released, 0);
		for (const run of runs) {
			expect(run.failed).toBe(0);
			expect(run.released + run.alreadyDone).toBe(run.examined);
		}
		expect(released).toBe(20);
		expect(balance?.availableMicroUsd).toBe(10_000_000);
		expect(balance?.reservedMicroUsd).toBe(0);
		expect(keyAfter.reservedMicroUsd).toBe(0);
		expect(keyAfter.budgetRemainingMicroUsd).toBe(5_000_000);
		expect(audits.every((a) => a?.action === "reservation.expired")).toBe(true);
		await expectLedgerReconciles(store, workspaceId);
	});
});
