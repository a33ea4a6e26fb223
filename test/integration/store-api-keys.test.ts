import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
	createApiKey,
	getApiKeyByHash,
	getApiKeyById,
	listApiKeys,
	revokeApiKey,
	rotateApiKey,
	updateKeyBudget,
} from "../../functions/store/api-keys.ts";
import { listAuditEvents } from "../../functions/store/audit.ts";
import type { Store } from "../../functions/store/client.ts";
import { hashApiKey, parseApiKey } from "../../shared/api-key.ts";
import type { GatewayError } from "../../shared/errors.ts";
import { keys } from "../../shared/table.ts";
import { newWorkspace, testStore } from "../setup/store.ts";

const store = testStore();

async function keyInNewWorkspace(
	target: Store,
	extra: { budgetMicroUsd?: number } = {},
) {
	const workspace = await newWorkspace(target);
	const created = await createApiKey(target, {
		workspaceId: workspace.workspaceId,
		cell: "sg",
		name: "Backend",
		scopes: ["chat.completions", "models.read"],
		allowedModels: ["gpt-4o"],
		expiresAt: "2099-01-01T00:00:00Z",
		tags: { project: "search", department: "R&D", client: "Globex" },
		rateLimit: { requestsPerMinute: 60 },
		actor: "user_1",
		...extra,
	});
	return { workspace, ...created };
}

describe("createApiKey", () => {
	it("stores only the hash", async () => {
		const { key, item } = await keyInNewWorkspace(store);

		const stored = await getApiKeyByHash(store, hashApiKey(key));
		expect(parseApiKey(key)?.cell).toBe("sg");
		expect(item.keyId).toMatch(/^key_[0-9A-Z]{26}$/);
		expect(stored).toEqual(item);
		expect(JSON.stringify(stored)).not.toContain(key);
		expect(stored?.prefix).toBe(`${key.slice(0, 14)}…${key.slice(-4)}`);
		expect(stored?.status).toBe("active");
		expect(stored?.expiresAt).toBe("2099-01-01T00:00:00.000Z");
		expect(stored?.tags).toEqual({
			project: "search",
			department: "R&D",
			client: "Globex",
		});
	});

	it("sets the remaining budget", async () => {
		const { item } = await keyInNewWorkspace(store, {
			budgetMicroUsd: 5_000_000,
		});

		expect(item.budgetMicroUsd).toBe(5_000_000);
		expect(item.budgetRemainingMicroUsd).toBe(5_000_000);
	});

	it("audits without the secret", async () => {
		const { workspace, key } = await keyInNewWorkspace(store);

		const [event] = await listAuditEvents(store, workspace.workspaceId, {
			limit: 1,
		});
		expect(event?.action).toBe("apiKey.created");
		expect(JSON.stringify(event)).not.toContain(key);
		expect(JSON.stringify(event)).not.toContain(hashApiKey(key));
	});

	it.each([
		["an unknown scope", { scopes: ["admin"] }, "scopes"],
		["no scopes", { scopes: [] }, "scopes"],
		["a past expiry", { expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
		["a bad expiry", { expiresAt: "tomorrow" }, "expiresAt"],
		["a zero budget", { budgetMicroUsd: 0 }, "budgetMicroUsd"],
		["a fractional budget", { budgetMicroUsd: 2.5 }, "budgetMicroUsd"],
		["another cell", { cell: "us" }, "cell"],
		[
			"a bad rate limit",
			{ rateLimit: { requestsPerMinute: 0 } },
			"rateLimit.requestsPerMinute",
		],
	])("rejects %s", async (_case, override, param) => {
		const workspace = await newWorkspace(store);

		const error = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: "sg",
			name: "Bad",
			scopes: ["chat.completions"],
			actor: "test",
			...override,
		}).catch((e) => e);

		const keys = await listApiKeys(store, workspace.workspaceId);
		expect(error.status).toBe(400);
		expect(error.param).toBe(param);
		expect(keys).toEqual([]);
	});

	it("rejects an unknown workspace", async () => {
		const error = await createApiKey(store, {
			workspaceId: "ws_MISSING",
			cell: "sg",
			name: "Lost",
			scopes: ["chat.completions"],
			actor: "test",
		}).catch((e) => e);

		expect(error.status).toBe(404);
	});
});

describe("getApiKeyById", () => {
	it("finds the key", async () => {
		const { item } = await keyInNewWorkspace(store);

		const found = await getApiKeyById(store, item.keyId);

		expect(found).toEqual(item);
	});

	it("returns undefined for an unknown id", async () => {
		const found = await getApiKeyById(store, "key_UNKNOWN");

		expect(found).toBeUndefined();
	});
});

describe("listApiKeys", () => {
	it("lists only the workspace's keys", async () => {
		const { workspace, item } = await keyInNewWorkspace(store);
		const second = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: "sg",
			name: "Reports",
			scopes: ["usage.read"],
			actor: "test",
		});
		await keyInNewWorkspace(store);

		const listed = await listApiKeys(store, workspace.workspaceId);

		expect(listed.map((key) => key.keyId)).toEqual([
			item.keyId,
			second.item.keyId,
		]);
	});
});

describe("revokeApiKey", () => {
	it("revokes once and audits once", async () => {
		const { workspace, key, item } = await keyInNewWorkspace(store);

		const first = await revokeApiKey(store, item.keyId, "user_2");
		const second = await revokeApiKey(store, item.keyId, "user_2");

		const stored = await getApiKeyByHash(store, hashApiKey(key));
		const revocations = (
			await listAuditEvents(store, workspace.workspaceId)
		).filter((event) => event.action === "apiKey.revoked");
		expect(first.status).toBe("revoked");
		expect(stored?.status).toBe("revoked");
		expect(stored?.revokedAt).toBe(first.revokedAt);
		expect(second.revokedAt).toBe(first.revokedAt);
		expect(revocations).toHaveLength(1);
		expect(revocations[0]?.actor).toBe("user_2");
	});

	it("settles concurrent revocations", async () => {
		const { workspace, item } = await keyInNewWorkspace(store);

		const results = await Promise.all(
			Array.from({ length: 5 }, () => revokeApiKey(store, item.keyId, "test")),
		);

		const revocations = (
			await listAuditEvents(store, workspace.workspaceId)
		).filter((event) => event.action === "apiKey.revoked");
		expect(results.every((result) => result.status === "revoked")).toBe(true);
		expect(revocations).toHaveLength(1);
	});

	it("rejects an unknown key", async () => {
		const error = await revokeApiKey(store, "key_NOPE", "test").catch((e) => e);

		expect(error.status).toBe(404);
		expect(error.message).toContain("key_NOPE");
	});
});

describe("updateKeyBudget", () => {
	it("recomputes the remaining budget", async () => {
		const { key, item } = await keyInNewWorkspace(store, {
			budgetMicroUsd: 1_000_000,
		});

		const updated = await updateKeyBudget(store, {
			keyId: item.keyId,
			budgetMicroUsd: 3_000_000,
			actor: "user_1",
		});

		const stored = await getApiKeyByHash(store, hashApiKey(key));
		expect(updated.budgetMicroUsd).toBe(3_000_000);
		expect(stored?.budgetMicroUsd).toBe(3_000_000);
		expect(stored?.budgetRemainingMicroUsd).toBe(3_000_000);
	});

	it("rejects a cap below the spend", async () => {
		const { key, item } = await keyInNewWorkspace(store, {
			budgetMicroUsd: 1_000_000,
		});
		await store.doc.send(
			new UpdateCommand({
				TableName: store.tableName,
				Key: keys.apiKey(hashApiKey(key)),
				UpdateExpression: "SET spentMicroUsd = :spent",
				ExpressionAttributeValues: { ":spent": 600_000 },
			}),
		);

		const error = await updateKeyBudget(store, {
			keyId: item.keyId,
			budgetMicroUsd: 500_000,
			actor: "user_1",
		}).catch((caught: unknown) => caught);

		expect((error as GatewayError).status).toBe(400);
		expect((error as GatewayError).message).toContain("$0.60");
	});

	it("removes the cap", async () => {
		const { workspace, key, item } = await keyInNewWorkspace(store, {
			budgetMicroUsd: 1_000_000,
		});

		await updateKeyBudget(store, {
			keyId: item.keyId,
			budgetMicroUsd: null,
			actor: "user_1",
		});

		const stored = await getApiKeyByHash(store, hashApiKey(key));
		const [event] = await listAuditEvents(store, workspace.workspaceId, {
			limit: 1,
		});
		expect(stored?.budgetMicroUsd).toBeUndefined();
		expect(stored?.budgetRemainingMicroUsd).toBeUndefined();
		expect(event?.action).toBe("apiKey.budgetUpdated");
		expect(event?.details).toEqual({
			keyId: item.keyId,
			beforeMicroUsd: 1_000_000,
			afterMicroUsd: null,
		});
	});

	it("rejects a negative budget", async () => {
		const { item } = await keyInNewWorkspace(store);

		const error = await updateKeyBudget(store, {
			keyId: item.keyId,
			budgetMicroUsd: -1,
			actor: "test",
		}).catch((e) => e);

		expect(error.status).toBe(400);
	});
});

describe("rotateApiKey", () => {
	it("replaces the secret, keeps settings", async () => {
		const { workspace, key, item } = await keyInNewWorkspace(store, {
			budgetMicroUsd: 2_000_000,
		});

		const rotated = await rotateApiKey(store, {
			keyId: item.keyId,
			actor: "user_1",
		});

		const old = await getApiKeyByHash(store, hashApiKey(key));
		const fresh = await getApiKeyByHash(store, hashApiKey(rotated.key));
		const [event] = await listAuditEvents(store, workspace.workspaceId, {
			limit: 1,
		});
		expect(rotated.key).not.toBe(key);
		expect(old?.status).toBe("revoked");
		expect(old?.replacedByKeyId).toBe(rotated.item.keyId);
		expect(fresh?.status).toBe("active");
		expect(fresh?.rotatedFromKeyId).toBe(item.keyId);
		for (const field of [
			"name",
			"scopes",
			"allowedModels",
			"expiresAt",
			"tags",
			"rateLimit",
			"budgetMicroUsd",
			"workspaceId",
			"cell",
		] as const) {
			expect(fresh?.[field], field).toEqual(item[field]);
		}
		expect(event?.action).toBe("apiKey.rotated");
	});

	it("rejects a revoked key", async () => {
		const { item } = await keyInNewWorkspace(store);
		await revokeApiKey(store, item.keyId, "test");

		const error = await rotateApiKey(store, {
			keyId: item.keyId,
			actor: "test",
		}).catch((e) => e);

		expect(error.status).toBe(400);
		expect(error.code).toBe("key_revoked");
	});
});
