import { describe, expect, inject, it } from "vitest";
import { getApiKeyByHash } from "../../functions/store/api-keys.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { createPurchaseRequest } from "../../functions/store/purchases.ts";
import { hashApiKey } from "../../shared/api-key.ts";
import { type CliResult, runAdminCli } from "../setup/admin-cli.ts";
import { newWorkspace, testStore } from "../setup/store.ts";

const store = testStore();

function admin(...args: string[]): Promise<CliResult> {
	return runAdminCli(inject("tableName"), ...args);
}

async function adminJson<T>(...args: string[]): Promise<T> {
	const result = await admin(...args, "--json");
	expect(result.stderr).toBe("");
	expect(result.code).toBe(0);
	return JSON.parse(result.stdout) as T;
}

describe("admin workspace", () => {
	it("creates and shows a workspace", async () => {
		const created = await adminJson<{ workspace: { workspaceId: string } }>(
			"workspace",
			"create",
			"--name",
			"Acme",
			"--credit-usd",
			"12.5",
			"--cell",
			"us",
		);
		const id = created.workspace.workspaceId;

		const shown = await admin("workspace", "show", "--workspace", id);

		const balance = await getBalance(store, id);
		expect(balance?.availableMicroUsd).toBe(12_500_000);
		expect(shown.code).toBe(0);
		expect(shown.stdout).toContain("Available  $12.50");
		expect(shown.stdout).toContain("Cell       us");
	});

	it("fails on an unknown workspace", async () => {
		const result = await admin("workspace", "show", "--workspace", "ws_NONE");

		expect(result.code).toBe(1);
		expect(result.stderr).toContain("Workspace ws_NONE was not found");
		expect(result.stderr).not.toMatch(/^\s+at /m);
	});
});

describe("admin key", () => {
	it("creates, lists and revokes a key", async () => {
		const workspace = await newWorkspace(store);
		const id = workspace.workspaceId;

		const created = await admin(
			"key",
			"create",
			"--workspace",
			id,
			"--name",
			"Backend",
			"--scopes",
			"chat.completions,models.read",
			"--budget-usd",
			"5",
			"--models",
			"gpt-4o,gpt-4o-mini",
			"--expires",
			"2099-01-01T00:00:00Z",
			"--project",
			"search",
			"--department",
			"R&D",
			"--client",
			"Globex",
		);
		const key = /sk-gag-sg-[0-9A-Za-z]{38}/.exec(created.stdout)?.[0] ?? "";
		const stored = await getApiKeyByHash(store, hashApiKey(key));
		const listed = await adminJson<Record<string, unknown>[]>(
			"key",
			"list",
			"--workspace",
			id,
		);
		const revoked = await admin("key", "revoke", "--key", stored?.keyId ?? "");
		const afterRevoke = await getApiKeyByHash(store, hashApiKey(key));

		expect(created.code).toBe(0);
		expect(created.stdout).toContain("only time the key is shown");
		expect(stored?.budgetMicroUsd).toBe(5_000_000);
		expect(stored?.allowedModels).toEqual(["gpt-4o", "gpt-4o-mini"]);
		expect(stored?.tags).toEqual({
			project: "search",
			department: "R&D",
			client: "Globex",
		});
		expect(listed).toHaveLength(1);
		expect(JSON.stringify(listed)).not.toContain(key);
		expect(listed[0]?.keyHash).toBeUndefined();
		expect(listed[0]?.pk).toBeUndefined();
		expect(revoked.code).toBe(0);
		expect(afterRevoke?.status).toBe("revoked");
	});

	it("rejects an unknown scope", async () => {
		const workspace = await newWorkspace(store);

		const result = await admin(
			"key",
			"create",
			"--workspace",
			workspace.workspaceId,
			"--name",
			"Bad",
			"--scopes",
			"admin",
		);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain('Invalid scope "admin"');
		expect(result.stderr).toContain("Usage: npm run admin -- key create");
	});
});

describe("admin credit", () => {
	it("tops up a workspace", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });

		const result = await admin(
			"credit",
			"topup",
			"--workspace",
			workspace.workspaceId,
			"--usd",
			"0.000001",
		);

		const balance = await getBalance(store, workspace.workspaceId);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain("Available: $1.000001");
		expect(balance?.availableMicroUsd).toBe(1_000_001);
	});

	it.each([
		["a negative amount", "-1"],
		["seven decimals", "0.0000001"],
		["a word", "ten"],
	])("rejects %s", async (_case, usd) => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });

		const result = await admin(
			"credit",
			"topup",
			"--workspace",
			workspace.workspaceId,
			`--usd=${usd}`,
		);

		const balance = await getBalance(store, workspace.workspaceId);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain("Invalid --usd");
		expect(balance?.availableMicroUsd).toBe(1_000_000);
	});
});

describe("admin purchase", () => {
	it("lists and approves a request", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "0" });
		const purchase = await createPurchaseRequest(store, {
			workspaceId: workspace.workspaceId,
			items: [{ description: "Credit pack $20", amountMicroUsd: 20_000_000 }],
			contact: { email: "buyer@example.com" },
			actor: "user_1",
		});

		const open = await adminJson<{ purchaseId: string }[]>(
			"purchase",
			"list",
			"--status",
			"open",
		);
		const approved = await admin(
			"purchase",
			"approve",
			"--purchase",
			purchase.purchaseId,
			"--credit-usd",
			"20",
		);
		const again = await admin(
			"purchase",
			"approve",
			"--purchase",
			purchase.purchaseId,
		);

		const balance = await getBalance(store, workspace.workspaceId);
		expect(open.map((item) => item.purchaseId)).toContain(purchase.purchaseId);
		expect(approved.code).toBe(0);
		expect(approved.stdout).toContain("added $20.00");
		expect(balance?.availableMicroUsd).toBe(20_000_000);
		expect(again.code).toBe(1);
		expect(again.stderr).toContain("not open");
	});

	it("rejects an unknown status", async () => {
		const result = await admin("purchase", "list", "--status", "paid");

		expect(result.code).toBe(2);
		expect(result.stderr).toContain('Invalid --status "paid"');
	});
});

describe("admin members", () => {
	it("adds a member and prints a sign-in link", async () => {
		const created = await adminJson<{ workspace: { workspaceId: string } }>(
			"workspace",
			"create",
			"--name",
			"Members",
			"--credit-usd",
			"1",
		);
		const workspaceId = created.workspace.workspaceId;

		const member = await adminJson<{ membership: { role: string } }>(
			"member",
			"add",
			"--workspace",
			workspaceId,
			"--user",
			`cognito-sub-${workspaceId}`,
			"--role",
			"billing",
		);
		const link = await adminJson<{ link: string }>(
			"portal",
			"link",
			"--workspace",
			workspaceId,
			"--user",
			"local-owner",
			"--role",
			"owner",
			"--base-url",
			"http://127.0.0.1:9999",
		);

		expect(member.membership.role).toBe("billing");
		expect(link.link).toMatch(/^http:\/\/127\.0\.0\.1:9999\/sign-in\/#token=/);
	});

	it("rejects an unknown role", async () => {
		const result = await admin(
			"member",
			"add",
			"--workspace",
			"ws_1",
			"--user",
			"u",
			"--role",
			"king",
		);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain('Invalid --role "king"');
	});
});

describe("admin usage errors", () => {
	it.each([
		["an unknown command", ["workspace", "delete"], "Unknown command"],
		["an unknown option", ["key", "list", "--wrkspace", "x"], "Unknown option"],
		["a missing option", ["key", "list"], "Missing --workspace"],
		["a missing cell id", ["--cell"], "Missing the cell id"],
		["no command", [], "Missing the command"],
		["a bare command group", ["workspace"], "needs a subcommand"],
		[
			"a negative amount",
			["credit", "topup", "--workspace", "ws_1", "--usd", "-3"],
			'Invalid --usd "-3"',
		],
		[
			"an unknown cell",
			["--cell", "mars", "workspace", "show", "--workspace", "ws_1"],
			'Unknown cell "mars"',
		],
	])("rejects %s", async (_case, args, message) => {
		const result = await admin(...args);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain(message);
		expect(result.stderr).toContain("Usage:");
		expect(result.stdout).toBe("");
	});

	it("defaults the workspace to the local cell", async () => {
		const created = await adminJson<{ workspace: { cell: string } }>(
			"workspace",
			"create",
			"--name",
			"Default cell",
			"--credit-usd",
			"1",
		);

		expect(created.workspace.cell).toBe("global");
	});

	it("prints help", async () => {
		const result = await admin("--help");

		expect(result.code).toBe(0);
		expect(result.stdout).toContain("workspace create");
		expect(result.stdout).toContain("purchase approve");
	});
});
