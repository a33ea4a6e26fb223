import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { ApiKeyItem } from "../../functions/store/items.ts";
import { createPurchaseRequest } from "../../functions/store/purchases.ts";
import { newWorkspace, testStore } from "../setup/store.ts";
import { callPortal, settleRequest, signIn } from "./portal-api-fixtures.ts";

process.env.CATALOG_FILE = "infra/catalog/local.json";

const store = testStore();

describe("workspace isolation", () => {
	let ownerOfA: string;
	let keyOfB: ApiKeyItem;
	let requestOfB: string;
	let purchaseOfB: string;

	beforeAll(async () => {
		const a = await newWorkspace(store, { name: "Workspace A" });
		const b = await newWorkspace(store, { name: "Workspace B" });
		ownerOfA = await signIn(store, a.workspaceId, "owner", { operator: true });
		keyOfB = (
			await createApiKey(store, {
				workspaceId: b.workspaceId,
				cell: b.cell,
				name: "secret project of B",
				scopes: ["chat.completions"],
				actor: "test",
			})
		).item;
		requestOfB = await settleRequest(store, keyOfB);
		purchaseOfB = (
			await createPurchaseRequest(store, {
				workspaceId: b.workspaceId,
				items: [{ description: "B credit", amountMicroUsd: 1_000_000 }],
				contact: { email: "b@example.com" },
				actor: "test",
			})
		).purchaseId;
	});

	const writes: [string, () => string, unknown][] = [
		["POST", () => `/keys/${keyOfB.keyId}/revoke`, undefined],
		["POST", () => `/keys/${keyOfB.keyId}/rotate`, undefined],
		["PATCH", () => `/keys/${keyOfB.keyId}`, { budgetUsd: "1" }],
	];

	it.each(writes)("rejects %s on a key of B", async (method, path, body) => {
		const response = await callPortal(store, method, path(), {
			cookie: ownerOfA,
			body,
		});

		expect(response.status).toBe(404);
		expect(response.body.error.code).toBe("key_not_found");
	});

	it("leaves B's key untouched", async () => {
		const { getApiKeyById } = await import("../../functions/store/api-keys.ts");

		const key = await getApiKeyById(store, keyOfB.keyId);

		expect(key?.status).toBe("active");
		expect(key?.budgetMicroUsd).toBeUndefined();
	});

	it("hides B's usage by key", async () => {
		const usage = await callPortal(store, "GET", "/usage", {
			cookie: ownerOfA,
			query: { keyId: keyOfB.keyId },
		});
		const csv = await callPortal(store, "GET", "/usage.csv", {
			cookie: ownerOfA,
			query: { keyId: keyOfB.keyId },
		});

		expect(usage.status).toBe(404);
		expect(csv.status).toBe(404);
	});

	it("hides B's receipts and requests", async () => {
		const receipt = await callPortal(store, "GET", `/receipts/${requestOfB}`, {
			cookie: ownerOfA,
		});
		const request = await callPortal(store, "GET", `/requests/${requestOfB}`, {
			cookie: ownerOfA,
		});

		expect(receipt.status).toBe(404);
		expect(request.status).toBe(404);
	});

	it("lists only A's data", async () => {
		const lists = await Promise.all(
			[
				"/keys",
				"/usage",
				"/usage.csv",
				"/receipts",
				"/requests",
				"/purchases",
			].map((path) => callPortal(store, "GET", path, { cookie: ownerOfA })),
		);

		for (const response of lists) {
			expect(response.status).toBe(200);
			expect(response.text).not.toContain(keyOfB.keyId);
			expect(response.text).not.toContain(requestOfB);
			expect(response.text).not.toContain(purchaseOfB);
			expect(response.text).not.toContain("secret project of B");
		}
	});
});
