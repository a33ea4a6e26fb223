import { describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import { checkLedger } from "../../functions/store/ledger-check.ts";
import { reserveCredit, settleCharge } from "../../functions/store/metering.ts";
import { reconcileReservations } from "../../functions/store/reconcile.ts";
import { isolatedStore, newWorkspace } from "../setup/store.ts";

describe("reconcile with ledger check", () => {
	it("restores credit and keeps the ledger", async () => {
		// A table of its own, so only this test's reservations expire in it.
		const store = await isolatedStore("reconcile-ledger");
		const workspace = await newWorkspace(store, { creditUsd: "5" });
		const workspaceId = workspace.workspaceId;
		const { item: key } = await createApiKey(store, {
			workspaceId,
			cell: workspace.cell,
			name: "crashed requests",
			scopes: ["chat.completions"],
			budgetMicroUsd: 3_000_000,
			actor: "test",
		});
		const reservations = [];
		for (const amountMicroUsd of [400_000, 300_000, 200_000, 100_000]) {
			reservations.push(
				await reserveCredit(store, {
					requestId: newRequestId(),
					workspaceId,
					keyId: key.keyId,
					keyHash: key.keyHash,
					keyHasBudget: true,
					model: "gpt-4o-mini",
					amountMicroUsd,
					expiresAt: new Date(Date.now() - 30_000),
				}),
			);
		}
		const settled = reservations[0];
		if (!settled) throw new Error("no reservation to settle");
		await settleCharge(store, {
			reservation: settled,
			keyHash: key.keyHash,
			keyHasBudget: true,
			providerId: "sim-sg",
			routeId: "sim-sg/gpt-4o-mini",
			stream: true,
			status: "completed",
			promptTokens: 100,
			cachedPromptTokens: 0,
			completionTokens: 200,
			reasoningTokens: 0,
			chargeMicroUsd: 123_457,
			providerCostMicroUsd: 61_728,
			latencyMs: 40,
			attempts: 1,
			sellerOfRecord: "Test seller",
			audit: { action: "chat.request", actor: key.keyId, details: {} },
		});

		const first = await reconcileReservations(store);
		const balance = await getBalance(store, workspaceId);
		const check = await checkLedger(store, { workspaceId });
		const second = await reconcileReservations(store);
		const balanceAfterSecond = await getBalance(store, workspaceId);

		expect(first.released).toBe(3);
		expect(first.failed).toBe(0);
		expect(balance?.availableMicroUsd).toBe(5_000_000 - 123_457);
		expect(balance?.reservedMicroUsd).toBe(0);
		expect(check.workspaces[0]?.problems).toEqual([]);
		expect(check.ok).toBe(true);
		expect(second.examined).toBe(0);
		expect(second.released).toBe(0);
		expect(balanceAfterSecond).toEqual(balance);
	});
});
