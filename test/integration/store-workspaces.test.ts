import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../functions/store/audit.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { listLedgerEntries } from "../../functions/store/ledger.ts";
import { listReceipts } from "../../functions/store/receipts.ts";
import {
	createWorkspace,
	getWorkspace,
	updatePolicy,
} from "../../functions/store/workspaces.ts";
import { GatewayError } from "../../shared/errors.ts";
import {
	expectLedgerReconciles,
	newWorkspace,
	testStore,
} from "../setup/store.ts";

const store = testStore();

describe("createWorkspace", () => {
	it("writes workspace, balance and records", async () => {
		const workspace = await createWorkspace(store, {
			name: "Acme",
			cell: "sg",
			creditMicroUsd: 25_000_000,
			actor: "admin-cli",
		});

		const stored = await getWorkspace(store, workspace.workspaceId);
		const balance = await getBalance(store, workspace.workspaceId);
		const ledger = await listLedgerEntries(store, workspace.workspaceId);
		const receipts = await listReceipts(store, workspace.workspaceId);
		const audit = await listAuditEvents(store, workspace.workspaceId);
		expect(workspace.workspaceId).toMatch(/^ws_[0-9A-Z]{26}$/);
		expect(stored).toEqual(workspace);
		expect(balance?.availableMicroUsd).toBe(25_000_000);
		expect(balance?.reservedMicroUsd).toBe(0);
		expect(ledger.map((entry) => [entry.kind, entry.amountMicroUsd])).toEqual([
			["topup", 25_000_000],
		]);
		expect(receipts).toHaveLength(1);
		expect(receipts[0]?.kind).toBe("purchase");
		expect(receipts[0]?.amountMicroUsd).toBe(25_000_000);
		expect(ledger[0]?.receiptId).toBe(receipts[0]?.receiptId);
		expect(audit.map((event) => event.action)).toEqual(["workspace.created"]);
		await expectLedgerReconciles(store, workspace.workspaceId);
	});

	it("writes no ledger entry without credit", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "0" });

		const ledger = await listLedgerEntries(store, workspace.workspaceId);
		const receipts = await listReceipts(store, workspace.workspaceId);
		const balance = await getBalance(store, workspace.workspaceId);
		expect(ledger).toEqual([]);
		expect(receipts).toEqual([]);
		expect(balance?.availableMicroUsd).toBe(0);
	});

	it("defaults the policy to the cell", async () => {
		const sg = await newWorkspace(store, { cell: "sg" });
		const global = await newWorkspace(store, { cell: "global" });

		expect(sg.policy).toEqual({
			allowedRegions: ["SG"],
			retention: "any",
			logging: "metadata",
		});
		expect(global.policy.allowedRegions).toEqual(["SG", "US", "EU", "global"]);
	});

	it.each([
		["a fractional amount", { creditMicroUsd: 1.5 }, "creditMicroUsd"],
		["a negative amount", { creditMicroUsd: -1 }, "creditMicroUsd"],
		["an unknown cell", { cell: "mars" }, "cell"],
		["an empty name", { name: "  " }, "name"],
	])("rejects %s", async (_case, override, param) => {
		const input = {
			name: "Bad",
			cell: "sg",
			creditMicroUsd: 1_000_000,
			actor: "test",
			...override,
		};

		const error = await createWorkspace(store, input).catch((e) => e);

		expect(error).toBeInstanceOf(GatewayError);
		expect(error.status).toBe(400);
		expect(error.param).toBe(param);
	});

	it("rejects a region outside the cell", async () => {
		const error = await createWorkspace(store, {
			name: "Wide",
			cell: "sg",
			creditMicroUsd: 0,
			actor: "test",
			policy: { allowedRegions: ["US"], retention: "any", logging: "metadata" },
		}).catch((e) => e);

		expect(error.status).toBe(400);
		expect(error.message).toContain("cell sg does not route to region US");
	});
});

describe("getWorkspace", () => {
	it("returns undefined for an unknown id", async () => {
		const workspace = await getWorkspace(store, "ws_UNKNOWN");

		expect(workspace).toBeUndefined();
	});
});

describe("updatePolicy", () => {
	it("stores the policy and audits it", async () => {
		const workspace = await newWorkspace(store, { cell: "global" });
		const policy = {
			allowedRegions: ["SG", "EU"],
			retention: "none" as const,
			logging: "metadata" as const,
			allowedModels: ["gpt-4o"],
		};

		const updated = await updatePolicy(store, {
			workspaceId: workspace.workspaceId,
			policy,
			actor: "user_1",
		});

		const stored = await getWorkspace(store, workspace.workspaceId);
		const [event] = await listAuditEvents(store, workspace.workspaceId, {
			limit: 1,
		});
		expect(updated.policy).toEqual(policy);
		expect(stored?.policy).toEqual(policy);
		expect(event?.action).toBe("workspace.policyUpdated");
		expect(event?.actor).toBe("user_1");
		expect(event?.details).toEqual({ before: workspace.policy, after: policy });
	});

	it("rejects an unknown workspace", async () => {
		const error = await updatePolicy(store, {
			workspaceId: "ws_MISSING",
			policy: { allowedRegions: ["SG"], retention: "any", logging: "metadata" },
			actor: "test",
		}).catch((e) => e);

		expect(error.status).toBe(404);
	});
});
