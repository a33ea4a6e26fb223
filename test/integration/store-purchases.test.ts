import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../functions/store/audit.ts";
import { getBalance } from "../../functions/store/credit.ts";
import {
	approvePurchaseRequest,
	createPurchaseRequest,
	listPurchaseRequests,
	listPurchaseRequestsByStatus,
} from "../../functions/store/purchases.ts";
import { getReceipt } from "../../functions/store/receipts.ts";
import {
	expectLedgerReconciles,
	newWorkspace,
	testStore,
} from "../setup/store.ts";

const store = testStore();

async function openPurchase(workspaceId: string) {
	return createPurchaseRequest(store, {
		workspaceId,
		items: [
			{ description: "Credit pack $50", amountMicroUsd: 50_000_000 },
			{ description: "Credit pack $10", amountMicroUsd: 10_000_000 },
		],
		contact: { name: "Ana", email: "ana@example.com" },
		note: "Invoice to finance",
		actor: "user_1",
	});
}

describe("createPurchaseRequest", () => {
	it("stores an open request", async () => {
		const workspace = await newWorkspace(store);

		const purchase = await openPurchase(workspace.workspaceId);

		const listed = await listPurchaseRequests(store, workspace.workspaceId);
		const open = await listPurchaseRequestsByStatus(store, "open");
		const [event] = await listAuditEvents(store, workspace.workspaceId, {
			limit: 1,
		});
		expect(purchase.purchaseId).toMatch(/^pur_[0-9A-Z]{26}$/);
		expect(purchase.status).toBe("open");
		expect(purchase.totalMicroUsd).toBe(60_000_000);
		expect(listed).toEqual([purchase]);
		expect(open.map((item) => item.purchaseId)).toContain(purchase.purchaseId);
		expect(event?.action).toBe("purchase.requested");
	});

	it.each([
		["no lines", { items: [] }, "items"],
		[
			"a fractional amount",
			{ items: [{ description: "Pack", amountMicroUsd: 0.5 }] },
			"items[0].amountMicroUsd",
		],
		[
			"a missing description",
			{ items: [{ description: " ", amountMicroUsd: 5 }] },
			"items[0].description",
		],
		["a bad email", { contact: { email: "nobody" } }, "contact.email"],
	])("rejects %s", async (_case, override, param) => {
		const workspace = await newWorkspace(store);

		const error = await createPurchaseRequest(store, {
			workspaceId: workspace.workspaceId,
			items: [{ description: "Pack", amountMicroUsd: 5 }],
			contact: { email: "ana@example.com" },
			actor: "test",
			...override,
		}).catch((e) => e);

		expect(error.status).toBe(400);
		expect(error.param).toBe(param);
	});
});

describe("approvePurchaseRequest", () => {
	it("approves and tops up", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });
		const purchase = await openPurchase(workspace.workspaceId);

		const approved = await approvePurchaseRequest(store, {
			purchaseId: purchase.purchaseId,
			actor: "admin-cli",
			creditMicroUsd: 60_000_000,
		});

		const balance = await getBalance(store, workspace.workspaceId);
		const receipt = await getReceipt(
			store,
			workspace.workspaceId,
			approved.receiptId ?? "",
		);
		const open = await listPurchaseRequestsByStatus(store, "open");
		const done = await listPurchaseRequestsByStatus(store, "approved");
		const actions = (await listAuditEvents(store, workspace.workspaceId)).map(
			(event) => event.action,
		);
		expect(approved.status).toBe("approved");
		expect(approved.creditedMicroUsd).toBe(60_000_000);
		expect(balance?.availableMicroUsd).toBe(61_000_000);
		expect(receipt?.amountMicroUsd).toBe(60_000_000);
		expect(open.map((item) => item.purchaseId)).not.toContain(
			purchase.purchaseId,
		);
		expect(done.map((item) => item.purchaseId)).toContain(purchase.purchaseId);
		expect(actions.slice(0, 2).sort()).toEqual([
			"credit.toppedUp",
			"purchase.approved",
		]);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("approves without credit", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });
		const purchase = await openPurchase(workspace.workspaceId);

		const approved = await approvePurchaseRequest(store, {
			purchaseId: purchase.purchaseId,
			actor: "admin-cli",
		});

		const balance = await getBalance(store, workspace.workspaceId);
		expect(approved.status).toBe("approved");
		expect(approved.creditedMicroUsd).toBeUndefined();
		expect(balance?.availableMicroUsd).toBe(1_000_000);
	});

	it("credits once under concurrent approvals", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "0" });
		const purchase = await openPurchase(workspace.workspaceId);

		const results = await Promise.allSettled(
			Array.from({ length: 5 }, () =>
				approvePurchaseRequest(store, {
					purchaseId: purchase.purchaseId,
					actor: "admin-cli",
					creditMicroUsd: 60_000_000,
				}),
			),
		);

		const balance = await getBalance(store, workspace.workspaceId);
		const fulfilled = results.filter((result) => result.status === "fulfilled");
		const rejected = results.filter((result) => result.status === "rejected");
		expect(fulfilled).toHaveLength(1);
		for (const result of rejected) {
			expect((result as PromiseRejectedResult).reason.status).toBe(409);
		}
		expect(balance?.availableMicroUsd).toBe(60_000_000);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("rejects an unknown request", async () => {
		const error = await approvePurchaseRequest(store, {
			purchaseId: "pur_MISSING",
			actor: "admin-cli",
		}).catch((e) => e);

		expect(error.status).toBe(404);
	});

	it("rejects an invalid credit amount", async () => {
		const workspace = await newWorkspace(store);
		const purchase = await openPurchase(workspace.workspaceId);

		const error = await approvePurchaseRequest(store, {
			purchaseId: purchase.purchaseId,
			actor: "admin-cli",
			creditMicroUsd: -1,
		}).catch((e) => e);

		const [stillOpen] = await listPurchaseRequests(
			store,
			workspace.workspaceId,
		);
		expect(error.status).toBe(400);
		expect(stillOpen?.status).toBe("open");
	});
});

describe("listPurchaseRequestsByStatus", () => {
	it("rejects an unknown status", async () => {
		const error = await listPurchaseRequestsByStatus(
			store,
			"paid" as "open",
		).catch((e) => e);

		expect(error.status).toBe(400);
	});
});
