import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import { reserveCredit } from "../../functions/store/metering.ts";
import { keys } from "../../shared/table.ts";
import { type CliResult, runAdminCli } from "../setup/admin-cli.ts";
import {
	createTestTable,
	isolatedTableName,
	newWorkspace,
} from "../setup/store.ts";

// A table of this file's own: `reconcile` and `ledger check` without a
// workspace cover the whole table, and other files tamper with theirs.
const tableName = isolatedTableName("admin-reconcile");
let store: Store;

beforeAll(async () => {
	store = await createTestTable(tableName);
});

function admin(...args: string[]): Promise<CliResult> {
	return runAdminCli(tableName, ...args);
}

async function workspaceWithExpiredReservation(amountMicroUsd: number) {
	const workspace = await newWorkspace(store, { creditUsd: "2" });
	const { item: key } = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell: workspace.cell,
		name: "cli",
		scopes: ["chat.completions"],
		actor: "test",
	});
	await reserveCredit(store, {
		requestId: newRequestId(),
		workspaceId: workspace.workspaceId,
		keyId: key.keyId,
		keyHash: key.keyHash,
		keyHasBudget: false,
		model: "gpt-4o-mini",
		amountMicroUsd,
		expiresAt: new Date(Date.now() - 10_000),
	});
	return workspace.workspaceId;
}

describe("admin reconcile", () => {
	it("releases expired reservations", async () => {
		const workspaceId = await workspaceWithExpiredReservation(300_000);

		const result = await admin("reconcile");

		const balance = await getBalance(store, workspaceId);
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		expect(result.stdout).toContain(
			"Released 1 of 1 expired reservations (0 already settled or released, 0 failed).",
		);
		expect(balance?.availableMicroUsd).toBe(2_000_000);
	});

	it("prints counts as JSON", async () => {
		await workspaceWithExpiredReservation(100_000);
		await workspaceWithExpiredReservation(200_000);

		const result = await admin(
			"reconcile",
			"--now",
			new Date().toISOString(),
			"--json",
		);

		expect(result.code).toBe(0);
		expect(JSON.parse(result.stdout)).toEqual({
			examined: 2,
			released: 2,
			alreadyDone: 0,
			failed: 0,
			pastExpiryBefore: 2,
			failures: [],
		});
	});

	it.each([
		["a time in the future", "2999-01-01T00:00:00Z", "is in the future"],
		["an invalid time", "yesterday", "use an ISO 8601 time"],
	])("rejects %s", async (_case, now, message) => {
		const result = await admin("reconcile", "--now", now);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain(message);
		expect(result.stderr).toContain("Usage: npm run admin -- reconcile");
	});
});

describe("admin ledger check", () => {
	it("passes a consistent workspace", async () => {
		const workspaceId = await workspaceWithExpiredReservation(100_000);

		const result = await admin("ledger", "check", "--workspace", workspaceId);

		expect(result.code).toBe(0);
		expect(result.stdout).toContain(
			"Checked 1 workspace: every ledger invariant holds.",
		);
	});

	it("fails on a broken invariant", async () => {
		const workspaceId = await workspaceWithExpiredReservation(100_000);
		await store.doc.send(
			new UpdateCommand({
				TableName: tableName,
				Key: keys.balance(workspaceId),
				UpdateExpression: "ADD availableMicroUsd :one",
				ExpressionAttributeValues: { ":one": 1 },
			}),
		);

		const text = await admin("ledger", "check");
		const json = await admin("ledger", "check", "--json");

		const report = JSON.parse(json.stdout) as {
			ok: boolean;
			workspaces: { workspaceId: string; problems: string[] }[];
		};
		const broken = report.workspaces.find((w) => w.workspaceId === workspaceId);
		expect(text.code).toBe(1);
		expect(text.stdout).toContain(`${workspaceId}:`);
		expect(text.stdout).toContain("Balance does not match the ledger");
		expect(json.code).toBe(1);
		expect(report.ok).toBe(false);
		expect(broken?.problems).toHaveLength(1);
	});

	it("fails on an unknown workspace", async () => {
		const result = await admin("ledger", "check", "--workspace", "ws_NONE");

		expect(result.code).toBe(1);
		expect(result.stderr).toContain("Workspace ws_NONE was not found");
	});
});
