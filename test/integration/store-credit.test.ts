import { describe, expect, it } from "vitest";
import { getAuditEvent } from "../../functions/store/audit.ts";
import { getBalance, topUpCredit } from "../../functions/store/credit.ts";
import { listLedgerEntries } from "../../functions/store/ledger.ts";
import { getReceipt, listReceipts } from "../../functions/store/receipts.ts";
import {
	expectLedgerReconciles,
	newWorkspace,
	testStore,
} from "../setup/store.ts";

const store = testStore();

describe("topUpCredit", () => {
	it("adds credit with ledger, receipt and audit", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });

		const result = await topUpCredit(store, {
			workspaceId: workspace.workspaceId,
			amountMicroUsd: 2_500_000,
			actor: "admin-cli",
			note: "Invoice 42",
			sellerOfRecord: "Example Pte. Ltd.",
		});

		const balance = await getBalance(store, workspace.workspaceId);
		const receipt = await getReceipt(
			store,
			workspace.workspaceId,
			result.receipt.receiptId,
		);
		const audit = await getAuditEvent(
			store,
			workspace.workspaceId,
			result.auditEvent.eventId,
		);
		expect(balance?.availableMicroUsd).toBe(3_500_000);
		expect(result.ledgerEntry.kind).toBe("topup");
		expect(result.ledgerEntry.amountMicroUsd).toBe(2_500_000);
		expect(result.ledgerEntry.note).toBe("Invoice 42");
		expect(receipt?.sellerOfRecord).toBe("Example Pte. Ltd.");
		expect(receipt?.description).toBe("Service Credit top-up of $2.50");
		expect(audit?.action).toBe("credit.toppedUp");
		expect(audit?.details.amountMicroUsd).toBe(2_500_000);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it.each([
		["zero", 0],
		["a negative amount", -5],
		["a fraction", 0.5],
		["NaN", Number.NaN],
		["more than $1B", 1_000_000_000_000_001],
	])("rejects %s", async (_case, amountMicroUsd) => {
		const workspace = await newWorkspace(store);

		const error = await topUpCredit(store, {
			workspaceId: workspace.workspaceId,
			amountMicroUsd,
			actor: "test",
		}).catch((e) => e);

		const balance = await getBalance(store, workspace.workspaceId);
		expect(error.status).toBe(400);
		expect(error.param).toBe("amountMicroUsd");
		expect(balance?.availableMicroUsd).toBe(10_000_000);
	});

	it("rejects an unknown workspace", async () => {
		const error = await topUpCredit(store, {
			workspaceId: "ws_NOPE",
			amountMicroUsd: 1,
			actor: "test",
		}).catch((e) => e);

		expect(error.status).toBe(404);
		expect(error.message).toContain("ws_NOPE");
	});

	it("rejects a balance above the limit", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "999999999" });

		const error = await topUpCredit(store, {
			workspaceId: workspace.workspaceId,
			amountMicroUsd: 2_000_000,
			actor: "test",
		}).catch((e) => e);

		const ledger = await listLedgerEntries(store, workspace.workspaceId);
		expect(error.status).toBe(400);
		expect(error.code).toBe("balance_limit_exceeded");
		expect(ledger).toHaveLength(1);
	});

	it("keeps exact totals under concurrency", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "0" });
		const amounts = Array.from({ length: 50 }, (_, i) => 1_000 + i);

		await Promise.all(
			amounts.map((amountMicroUsd) =>
				topUpCredit(store, {
					workspaceId: workspace.workspaceId,
					amountMicroUsd,
					actor: "test",
				}),
			),
		);

		const balance = await getBalance(store, workspace.workspaceId);
		const ledger = await listLedgerEntries(store, workspace.workspaceId);
		const receipts = await listReceipts(store, workspace.workspaceId);
		const expected = amounts.reduce((sum, amount) => sum + amount, 0);
		expect(balance?.availableMicroUsd).toBe(expected);
		expect(ledger).toHaveLength(50);
		expect(receipts).toHaveLength(50);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});
});
