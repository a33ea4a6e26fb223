import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { WorkspaceItem } from "../../functions/store/items.ts";
import { putMember } from "../../functions/store/members.ts";
import { createSignInLink } from "../../functions/store/portal-sessions.ts";
import { newWorkspace, testStore } from "../setup/store.ts";
import { callPortal, settleRequest, signIn } from "./portal-api-fixtures.ts";

process.env.CATALOG_FILE = "infra/catalog/local.json";

const store = testStore();

function tokenOf(url: string): string {
	return new URLSearchParams(new URL(url).hash.slice(1)).get("token") ?? "";
}

describe("portal sessions", () => {
	let workspace: WorkspaceItem;

	beforeAll(async () => {
		workspace = await newWorkspace(store);
	});

	it("accepts a sign-in link once", async () => {
		const url = await createSignInLink(store, {
			workspaceId: workspace.workspaceId,
			userId: "once",
			role: "owner",
			baseUrl: "http://127.0.0.1:8787",
		});

		const first = await callPortal(store, "POST", "/session", {
			body: { token: tokenOf(url) },
		});
		const second = await callPortal(store, "POST", "/session", {
			body: { token: tokenOf(url) },
		});

		expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8787\/sign-in\/#token=/);
		expect(first.status).toBe(200);
		expect(second.status).toBe(401);
		expect(second.body.error.code).toBe("sign_in_link_invalid");
	});

	it("rejects an expired link", async () => {
		const url = await createSignInLink(store, {
			workspaceId: workspace.workspaceId,
			userId: "late",
			role: "owner",
			baseUrl: "http://127.0.0.1:8787",
			ttlSeconds: 0,
		});

		const response = await callPortal(store, "POST", "/session", {
			body: { token: tokenOf(url) },
		});

		expect(response.status).toBe(401);
	});

	it("sets a strict HttpOnly cookie", async () => {
		const url = await createSignInLink(store, {
			workspaceId: workspace.workspaceId,
			userId: "cookie",
			role: "viewer",
			baseUrl: "https://portal.example.com",
		});

		const loopback = await callPortal(store, "POST", "/session", {
			body: { token: tokenOf(url) },
		});
		const cookie = loopback.headers["set-cookie"] ?? "";

		expect(cookie).toMatch(/^gag_session=[\w-]{43}; /);
		expect(cookie).toContain("HttpOnly");
		expect(cookie).toContain("SameSite=Strict");
		expect(cookie).not.toContain("Secure");
	});

	it("marks the cookie Secure off loopback", async () => {
		const url = await createSignInLink(store, {
			workspaceId: workspace.workspaceId,
			userId: "secure",
			role: "viewer",
			baseUrl: "https://portal.example.com",
		});

		const response = await callPortal(store, "POST", "/session", {
			body: { token: tokenOf(url) },
			headers: { Host: "portal.example.com", "X-Forwarded-Proto": "https" },
		});

		expect(response.headers["set-cookie"]).toContain("Secure");
	});

	it("rejects calls without a session", async () => {
		const response = await callPortal(store, "GET", "/me");

		expect(response.status).toBe(401);
		expect(response.body.error.type).toBe("authentication_error");
	});

	it("rejects a badly encoded cookie", async () => {
		const response = await callPortal(store, "GET", "/me", {
			cookie: "gag_session=%E0%A4%A",
		});

		expect(response.status).toBe(401);
		expect(response.body.error.code).toBe("session_required");
	});

	it("ends the session on sign-out", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const signOut = await callPortal(store, "DELETE", "/session", { cookie });
		const after = await callPortal(store, "GET", "/me", { cookie });

		expect(signOut.status).toBe(204);
		expect(after.status).toBe(401);
	});

	it("maps Cognito claims to membership", async () => {
		await putMember(store, {
			workspaceId: workspace.workspaceId,
			userId: "cognito-sub-1",
			role: "billing",
		});

		const member = await callPortal(store, "GET", "/me", {
			claims: {
				sub: "cognito-sub-1",
				email: "bill@example.com",
				"cognito:groups": "operators",
			},
		});
		const stranger = await callPortal(store, "GET", "/me", {
			claims: { sub: "cognito-sub-unknown" },
		});

		expect(member.status).toBe(200);
		expect(member.body.role).toBe("billing");
		expect(member.body.operator).toBe(true);
		expect(member.body.workspace.id).toBe(workspace.workspaceId);
		expect(stranger.status).toBe(403);
	});

	it("rejects writes from a foreign origin", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "owner");

		const response = await callPortal(store, "POST", "/keys", {
			cookie,
			body: { name: "cross-site" },
			headers: { Origin: "https://evil.example" },
		});

		expect(response.status).toBe(403);
		expect(response.body.error.code).toBe("origin_not_allowed");
	});
});

describe("portal keys", () => {
	let workspace: WorkspaceItem;
	let developer: string;

	beforeAll(async () => {
		workspace = await newWorkspace(store);
		developer = await signIn(store, workspace.workspaceId, "developer");
	});

	it("returns the secret only at creation", async () => {
		const created = await callPortal(store, "POST", "/keys", {
			cookie: developer,
			body: {
				name: "mobile app",
				scopes: ["chat.completions"],
				budgetUsd: "25.50",
				allowedModels: ["gpt-4o-mini"],
				expiresOn: "2099-12-31",
				tags: { project: "mobile", client: "acme" },
			},
		});
		const list = await callPortal(store, "GET", "/keys", {
			cookie: developer,
		});

		expect(created.status).toBe(201);
		expect(created.body.key).toMatch(/^sk-gag-sg-/);
		expect(created.body.item.budgetMicroUsd).toBe(25_500_000);
		expect(created.body.item.expiresAt).toBe("2099-12-31T23:59:59.999Z");
		expect(created.body.item.tags).toEqual({
			project: "mobile",
			client: "acme",
		});
		expect(list.text).not.toContain(created.body.key);
		expect(list.text).not.toContain("keyHash");
		expect(list.body.keys[0].prefix).toBe(created.body.item.prefix);
	});

	it("rejects an invalid budget", async () => {
		const response = await callPortal(store, "POST", "/keys", {
			cookie: developer,
			body: { name: "bad budget", budgetUsd: "-3" },
		});

		expect(response.status).toBe(400);
		expect(response.body.error.param).toBe("budgetUsd");
	});

	it("revokes, rotates and edits budgets", async () => {
		const created = await callPortal(store, "POST", "/keys", {
			cookie: developer,
			body: { name: "rotating" },
		});
		const keyId = created.body.item.keyId;

		const budget = await callPortal(store, "PATCH", `/keys/${keyId}`, {
			cookie: developer,
			body: { budgetUsd: "10" },
		});
		const rotated = await callPortal(store, "POST", `/keys/${keyId}/rotate`, {
			cookie: developer,
		});
		const newKeyId = rotated.body.item.keyId;
		const revoked = await callPortal(
			store,
			"POST",
			`/keys/${newKeyId}/revoke`,
			{ cookie: developer },
		);

		expect(budget.body.item.budgetMicroUsd).toBe(10_000_000);
		expect(rotated.status).toBe(201);
		expect(rotated.body.key).not.toBe(created.body.key);
		expect(revoked.body.item.status).toBe("revoked");
	});

	it("shows an expired key as expired", async () => {
		const created = await callPortal(store, "POST", "/keys", {
			cookie: developer,
			body: {
				name: "short-lived",
				expiresAt: new Date(Date.now() + 1_000).toISOString(),
			},
		});
		const activeBefore = (
			await callPortal(store, "GET", "/overview", { cookie: developer })
		).body.activeKeyCount;
		await new Promise((resolve) => setTimeout(resolve, 1_100));

		const list = await callPortal(store, "GET", "/keys", {
			cookie: developer,
		});
		const overview = await callPortal(store, "GET", "/overview", {
			cookie: developer,
		});
		const listed = list.body.keys.find(
			(key: { keyId: string }) => key.keyId === created.body.item.keyId,
		);

		expect(created.body.item.status).toBe("active");
		expect(listed.status).toBe("expired");
		expect(overview.body.activeKeyCount).toBe(activeBefore - 1);
	});

	it("lets a viewer read but not write", async () => {
		const viewer = await signIn(store, workspace.workspaceId, "viewer");

		const list = await callPortal(store, "GET", "/keys", { cookie: viewer });
		const create = await callPortal(store, "POST", "/keys", {
			cookie: viewer,
			body: { name: "viewer key" },
		});

		expect(list.status).toBe(200);
		expect(create.status).toBe(403);
		expect(create.body.error.code).toBe("insufficient_role");
	});

	it("keeps keys away from billing", async () => {
		const billing = await signIn(store, workspace.workspaceId, "billing");

		const response = await callPortal(store, "POST", "/keys", {
			cookie: billing,
			body: { name: "billing key" },
		});

		expect(response.status).toBe(403);
	});
});

describe("portal usage and receipts", () => {
	let workspace: WorkspaceItem;
	let requestId: string;
	let keyId: string;

	beforeAll(async () => {
		workspace = await newWorkspace(store);
		const { item } = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: workspace.cell,
			name: '=HYPERLINK("x")',
			scopes: ["chat.completions"],
			actor: "test",
		});
		keyId = item.keyId;
		requestId = await settleRequest(store, item, { chargeMicroUsd: 1_500 });
		await settleRequest(store, item, {
			model: "qwen-coder-plus",
			chargeMicroUsd: 2_500,
		});
	});

	it("sums spend by day, model and key", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const usage = await callPortal(store, "GET", "/usage", { cookie });

		expect(usage.status).toBe(200);
		expect(usage.body.totals.chargeMicroUsd).toBe(4_000);
		expect(usage.body.totals.requests).toBe(2);
		expect(usage.body.totals.grossMarginMicroUsd).toBeUndefined();
		expect(usage.body.daily).toHaveLength(1);
		expect(usage.body.byModel[0]).toMatchObject({
			model: "qwen-coder-plus",
			chargeMicroUsd: 2_500,
		});
		expect(usage.body.byKey[0]).toMatchObject({ keyId, chargeMicroUsd: 4_000 });
	});

	it("filters usage by model", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const usage = await callPortal(store, "GET", "/usage", {
			cookie,
			query: { model: "gpt-4o-mini", keyId },
		});

		expect(usage.body.totals.chargeMicroUsd).toBe(1_500);
		expect(usage.body.models).toEqual(["gpt-4o-mini"]);
	});

	it("exports usage as CSV", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const csv = await callPortal(store, "GET", "/usage.csv", { cookie });
		const lines = csv.text.trim().split("\r\n");

		expect(csv.headers["content-type"]).toContain("text/csv");
		expect(lines).toHaveLength(3);
		expect(lines[0]).toContain("charge_micro_usd");
		expect(lines[0]).not.toContain("provider_cost");
		expect(csv.text).toContain('"\'=HYPERLINK(""x"")"');
		expect(csv.text).toContain(requestId);
	});

	it("shows operators cost and margin", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "owner", {
			operator: true,
		});

		const usage = await callPortal(store, "GET", "/usage", { cookie });
		const receipt = await callPortal(store, "GET", `/receipts/${requestId}`, {
			cookie,
		});

		expect(usage.body.totals.providerCostMicroUsd).toBe(1_200 + 2_000);
		expect(usage.body.totals.grossMarginMicroUsd).toBe(300 + 500);
		expect(receipt.body.receipt.providerCostMicroUsd).toBe(1_200);
		expect(receipt.body.receipt.grossMarginMicroUsd).toBe(300);
	});

	it("hides cost from customers", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "billing");

		const list = await callPortal(store, "GET", "/receipts", { cookie });
		const one = await callPortal(store, "GET", `/receipts/${requestId}`, {
			cookie,
		});

		expect(list.status).toBe(200);
		expect(list.body.receipts).toHaveLength(3);
		expect(list.text).not.toContain("providerCostMicroUsd");
		expect(list.text).not.toContain("grossMarginMicroUsd");
		expect(one.body.receipt.amountMicroUsd).toBe(1_500);
	});

	it("keeps receipts from developers", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "developer");

		const response = await callPortal(store, "GET", "/receipts", { cookie });

		expect(response.status).toBe(403);
	});

	it("shows a request's audit trail", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "developer");

		const list = await callPortal(store, "GET", "/requests", { cookie });
		const detail = await callPortal(store, "GET", `/requests/${requestId}`, {
			cookie,
		});

		expect(list.body.requests).toHaveLength(2);
		expect(detail.body.request.routeId).toBe("sim-sg/gpt-4o-mini");
		expect(detail.body.request.candidates).toHaveLength(2);
		expect(detail.body.request.excluded[0].reasons[0]).toBe(
			"processing region is not served by this cell",
		);
		expect(detail.body.request.fallbacks).toEqual([
			{
				from: "sim-bedrock-sg/gpt-4o-mini",
				to: "sim-sg/gpt-4o-mini",
				reason: "Provider sim-bedrock-sg returned 429.",
			},
		]);
	});

	it("lists the usage status of requests", async () => {
		const streaming = await newWorkspace(store);
		const { item } = await createApiKey(store, {
			workspaceId: streaming.workspaceId,
			cell: streaming.cell,
			name: "streaming",
			scopes: ["chat.completions"],
			actor: "test",
		});
		const disconnected = await settleRequest(store, item, {
			usageStatus: "client_disconnected",
		});
		const cookie = await signIn(store, streaming.workspaceId, "developer");

		const list = await callPortal(store, "GET", "/requests", { cookie });
		const detail = await callPortal(store, "GET", `/requests/${disconnected}`, {
			cookie,
		});

		expect(list.body.requests[0].usageStatus).toBe("client_disconnected");
		expect(list.body.requests[0].status).toBe("200");
		expect(detail.body.request.usageStatus).toBe("client_disconnected");
	});

	it("counts keys and receipts on the overview", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "owner");

		const overview = await callPortal(store, "GET", "/overview", { cookie });

		expect(overview.status).toBe(200);
		expect(overview.body.balance.availableMicroUsd).toBe(10_000_000 - 4_000);
		expect(overview.body.keyCount).toBe(1);
		expect(overview.body.receiptCount).toBe(3);
		expect(overview.body.routeCounts.active).toBeGreaterThan(0);
		expect(overview.body.statusLine).toMatch(/routes serve your workspace/);
	});
});

describe("portal policy and catalog", () => {
	let workspace: WorkspaceItem;

	beforeAll(async () => {
		workspace = await newWorkspace(store);
	});

	it("rates routes under the policy", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const policy = await callPortal(store, "GET", "/policy", { cookie });
		const byId = new Map(
			policy.body.routes.map((route: { id: string }) => [route.id, route]),
		);

		expect(policy.status).toBe(200);
		expect(byId.get("sim-sg/gpt-4o-mini")).toMatchObject({
			policyStatus: "active",
		});
		expect(byId.get("sim-retired/gpt-4o-mini")).toMatchObject({
			policyStatus: "inactive",
		});
		expect(byId.get("sim-us/gpt-4o")).toMatchObject({
			policyStatus: "excluded",
		});
		expect(policy.text).not.toContain('"cost"');
	});

	it("narrows the policy for admins", async () => {
		const admin = await signIn(store, workspace.workspaceId, "admin");

		const updated = await callPortal(store, "PUT", "/policy", {
			cookie: admin,
			body: {
				allowedRegions: ["SG"],
				retention: "none",
				logging: "metadata",
				allowedProviders: ["sim-sg"],
			},
		});
		const bedrock = updated.body.routes.find(
			(route: { id: string }) => route.id === "sim-bedrock-sg/claude-sonnet-4",
		);

		expect(updated.status).toBe(200);
		expect(updated.body.policy.allowedProviders).toEqual(["sim-sg"]);
		expect(bedrock.policyStatus).toBe("excluded");
		expect(bedrock.reasons.map((r: { code: string }) => r.code)).toContain(
			"provider_not_allowed",
		);
	});

	it("rejects a region the cell lacks", async () => {
		const admin = await signIn(store, workspace.workspaceId, "admin");

		const response = await callPortal(store, "PUT", "/policy", {
			cookie: admin,
			body: { allowedRegions: ["US"], retention: "any", logging: "metadata" },
		});

		expect(response.status).toBe(400);
	});

	it("keeps the policy from developers", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "developer");

		const response = await callPortal(store, "PUT", "/policy", {
			cookie,
			body: { allowedRegions: ["SG"], retention: "any", logging: "metadata" },
		});

		expect(response.status).toBe(403);
	});

	it("lists the marketplace with prices", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const catalog = await callPortal(store, "GET", "/catalog", { cookie });
		const image = catalog.body.routes.find(
			(route: { workload: string }) => route.workload === "image",
		);

		expect(catalog.body.routes.length).toBeGreaterThan(5);
		expect(image.unitPriceMicroUsd).toBeGreaterThan(0);
		expect(image.unitCostMicroUsd).toBeUndefined();
	});

	it("stores purchase requests", async () => {
		const billing = await signIn(store, workspace.workspaceId, "billing");

		const created = await callPortal(store, "POST", "/purchases", {
			cookie: billing,
			body: {
				models: ["gpt-4o-mini", "claude-sonnet-4"],
				expectedMonthlySpendUsd: "500",
				contact: { name: "Ana", email: "ana@example.com", company: "Clinic" },
				notes: "Start next month.",
			},
		});
		const list = await callPortal(store, "GET", "/purchases", {
			cookie: billing,
		});

		expect(created.status).toBe(201);
		expect(created.body.purchase.totalMicroUsd).toBe(500_000_000);
		expect(created.body.purchase.items[0].description).toContain(
			"claude-sonnet-4",
		);
		expect(created.body.purchase.note).toBe(
			"Company: Clinic. Start next month.",
		);
		expect(list.body.purchases).toHaveLength(1);
	});

	it("rejects unknown plan models", async () => {
		const billing = await signIn(store, workspace.workspaceId, "billing");

		const response = await callPortal(store, "POST", "/purchases", {
			cookie: billing,
			body: {
				models: ["no-such-model"],
				expectedMonthlySpendUsd: "5",
				contact: { name: "Ana", email: "ana@example.com" },
			},
		});

		expect(response.status).toBe(400);
		expect(response.body.error.message).toContain("no-such-model");
	});

	it("answers 404 for unknown routes", async () => {
		const cookie = await signIn(store, workspace.workspaceId, "viewer");

		const unknown = await callPortal(store, "GET", "/nope", { cookie });
		const wrongMethod = await callPortal(store, "DELETE", "/keys", { cookie });

		expect(unknown.status).toBe(404);
		expect(wrongMethod.status).toBe(405);
	});
});
