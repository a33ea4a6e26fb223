/**
 * API keys of a workspace. A key item is keyed by the SHA-256 hash of the
 * secret, which is returned once at creation and never stored. Keys are
 * listed per workspace through gsi1 and found by id through gsi2. Every
 * change writes an audit event in the same transaction.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
	generateApiKey,
	hashApiKey,
	maskApiKey,
} from "../../shared/api-key.ts";
import { conflict, invalidRequest, notFound } from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";
import { keys } from "../../shared/table.ts";
import {
	checkAllowedModels,
	checkExpiresAt,
	checkKeyName,
	checkRateLimit,
	checkScopes,
	checkTags,
} from "./api-key-input.ts";
import { auditEventPut } from "./audit.ts";
import type { Store } from "./client.ts";
import { newKeyId } from "./ids.ts";
import type { ApiKeyItem, KeyTags, RateLimit } from "./items.ts";
import { requirePositiveMicroUsd } from "./money-input.ts";
import { queryItems } from "./query.ts";
import { conditionFailedAt, putNewItem, transactWrite } from "./transact.ts";
import { getWorkspace, workspaceNotFound } from "./workspaces.ts";

export interface CreateApiKeyInput {
	workspaceId: string;
	/** Home cell; must be the workspace's cell. */
	cell: string;
	name: string;
	scopes: string[];
	/** Spend cap in micro-USD; absent means only the balance limits the key. */
	budgetMicroUsd?: number;
	allowedModels?: string[];
	/** ISO 8601 time after which the key is rejected. */
	expiresAt?: string;
	tags?: KeyTags;
	rateLimit?: RateLimit;
	actor: string;
}

export interface CreatedApiKey {
	/** The secret: show it once, it cannot be read back. */
	key: string;
	item: ApiKeyItem;
}

/**
 * Creates a key and returns its secret once; only the hash is stored.
 *
 * @throws GatewayError 400 for an invalid setting or a cell other than the
 *   workspace's, 404 when the workspace does not exist.
 */
export async function createApiKey(
	store: Store,
	input: CreateApiKeyInput,
): Promise<CreatedApiKey> {
	const workspace = await getWorkspace(store, input.workspaceId);
	if (!workspace) throw workspaceNotFound(input.workspaceId);
	if (input.cell !== workspace.cell) {
		throw invalidRequest(
			`Invalid cell "${input.cell}": workspace ${workspace.workspaceId} lives in cell ${workspace.cell}, so its keys must too.`,
			"cell",
		);
	}
	const now = new Date();
	const budgetMicroUsd =
		input.budgetMicroUsd === undefined
			? undefined
			: requirePositiveMicroUsd(input.budgetMicroUsd, "budgetMicroUsd");
	const settings = {
		name: checkKeyName(input.name),
		scopes: checkScopes(input.scopes),
		allowedModels: checkAllowedModels(input.allowedModels),
		expiresAt: checkExpiresAt(input.expiresAt, now),
		tags: checkTags(input.tags),
		rateLimit: checkRateLimit(input.rateLimit),
		budgetMicroUsd,
	};

	const created = newKeyItem({
		workspaceId: workspace.workspaceId,
		cell: workspace.cell,
		settings,
		spentMicroUsd: 0,
		createdAt: now.toISOString(),
	});
	const audit = auditEventPut(store, {
		workspaceId: workspace.workspaceId,
		action: "apiKey.created",
		actor: input.actor,
		details: describeKey(created.item),
		createdAt: created.item.createdAt,
	});
	await transactWrite(store, [putNewItem(store, created.item), audit.put]);
	return created;
}

/** Gets a key by the SHA-256 hash of its secret, or `undefined`. */
export async function getApiKeyByHash(
	store: Store,
	keyHash: string,
): Promise<ApiKeyItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({ TableName: store.tableName, Key: keys.apiKey(keyHash) }),
	);
	return result.Item as ApiKeyItem | undefined;
}

/** Gets a key by its id (`key_<ulid>`), or `undefined`. */
export async function getApiKeyById(
	store: Store,
	keyId: string,
): Promise<ApiKeyItem | undefined> {
	const index = keys.apiKeyById(keyId);
	const [item] = await queryItems<ApiKeyItem>(
		store,
		{
			IndexName: "gsi2",
			KeyConditionExpression: "gsi2pk = :pk AND gsi2sk = :sk",
			ExpressionAttributeValues: { ":pk": index.gsi2pk, ":sk": index.gsi2sk },
		},
		1,
	);
	return item;
}

/** Lists a workspace's keys, revoked ones included, oldest first. */
export function listApiKeys(
	store: Store,
	workspaceId: string,
): Promise<ApiKeyItem[]> {
	return queryItems<ApiKeyItem>(store, {
		IndexName: "gsi1",
		KeyConditionExpression: "gsi1pk = :pk",
		ExpressionAttributeValues: {
			":pk": keys.apiKeyInWorkspace(workspaceId, "").gsi1pk,
		},
	});
}

/**
 * Revokes a key. Revoking a revoked key returns it unchanged and writes no
 * second audit event.
 *
 * @throws GatewayError 404 when no key has that id.
 */
export async function revokeApiKey(
	store: Store,
	keyId: string,
	actor: string,
): Promise<ApiKeyItem> {
	const current = await requireApiKey(store, keyId);
	if (current.status === "revoked") return current;
	const revokedAt = new Date().toISOString();
	const audit = auditEventPut(store, {
		workspaceId: current.workspaceId,
		action: "apiKey.revoked",
		actor,
		details: { keyId, name: current.name, prefix: current.prefix },
		createdAt: revokedAt,
	});

	try {
		await transactWrite(store, [
			revokeUpdate(store, current, revokedAt),
			audit.put,
		]);
	} catch (error) {
		// Revoked concurrently by another caller: return what it stored.
		if (conditionFailedAt(error, 0)) return requireApiKey(store, keyId);
		throw error;
	}
	return { ...current, status: "revoked", revokedAt };
}

/**
 * Sets or removes a key's spend cap. The remaining budget that reservations
 * check is recomputed from the spent and reserved amounts at the same instant.
 *
 * @param budgetMicroUsd the new cap, or `null` to remove it.
 * @throws GatewayError 400 for an invalid amount, 404 for an unknown key.
 */
export async function updateKeyBudget(
	store: Store,
	input: { keyId: string; budgetMicroUsd: number | null; actor: string },
): Promise<ApiKeyItem> {
	const budget =
		input.budgetMicroUsd === null
			? null
			: requirePositiveMicroUsd(input.budgetMicroUsd, "budgetMicroUsd");

	// Spent and reserved move with every request, so the update is
	// conditioned on the values read and retried when a request got between.
	for (let attempt = 1; ; attempt++) {
		const current = await requireApiKey(store, input.keyId);
		const committed = current.spentMicroUsd + current.reservedMicroUsd;
		if (budget !== null && budget < committed) {
			throw invalidRequest(
				`Invalid budget ${formatUsd(budget)}: key ${current.keyId} has already spent or reserved ${formatUsd(committed)}. Set a budget of at least that, or revoke the key to stop it.`,
				"budgetMicroUsd",
			);
		}
		const remaining = budget === null ? undefined : budget - committed;
		const audit = auditEventPut(store, {
			workspaceId: current.workspaceId,
			action: "apiKey.budgetUpdated",
			actor: input.actor,
			details: {
				keyId: current.keyId,
				beforeMicroUsd: current.budgetMicroUsd ?? null,
				afterMicroUsd: budget,
			},
			createdAt: new Date().toISOString(),
		});
		try {
			await transactWrite(store, [
				budgetUpdate(store, current, budget, remaining),
				audit.put,
			]);
		} catch (error) {
			if (conditionFailedAt(error, 0) && attempt < 5) continue;
			throw error;
		}

		const updated: ApiKeyItem = { ...current };
		delete updated.budgetMicroUsd;
		delete updated.budgetRemainingMicroUsd;
		if (budget !== null) {
			updated.budgetMicroUsd = budget;
			updated.budgetRemainingMicroUsd = remaining;
		}
		return updated;
	}
}

/**
 * Replaces a key's secret: a new key (new id and secret, same name, scopes,
 * cap, models, expiry, tags and rate limit) is created and the old one is
 * revoked in one transaction. The new key carries the old key's spend, so a
 * rotation never resets the spend cap.
 *
 * @throws GatewayError 404 for an unknown key, 400 for a revoked one.
 */
export async function rotateApiKey(
	store: Store,
	input: { keyId: string; actor: string },
): Promise<CreatedApiKey> {
	// The new key carries the old key's spend as read, so the old key's spend
	// and reservations must not move before the rotation commits. A request
	// settling in between makes the write fail, and the rotation reads again.
	// NOTE: requests still in flight on the old key settle on the old key, so
	// the new key's budget does not count them.
	for (let attempt = 1; ; attempt++) {
		const current = await requireApiKey(store, input.keyId);
		if (current.status === "revoked") {
			throw invalidRequest(
				`Key ${current.keyId} is revoked, so it cannot be rotated. Create a new key instead.`,
				"keyId",
				"key_revoked",
			);
		}
		try {
			return await writeRotation(store, current, input.actor);
		} catch (error) {
			if (!conditionFailedAt(error, 0)) throw error;
			const latest = await requireApiKey(store, input.keyId);
			if (latest.status === "revoked") {
				throw invalidRequest(
					`Key ${current.keyId} was revoked while it was being rotated. Create a new key instead.`,
					"keyId",
					"key_revoked",
				);
			}
			if (attempt >= 5) {
				throw conflict(
					`Key ${current.keyId} kept changing while it was being rotated, because requests are settling on it. Retry the rotation.`,
					"rotation_conflict",
				);
			}
		}
	}
}

async function writeRotation(
	store: Store,
	current: ApiKeyItem,
	actor: string,
): Promise<CreatedApiKey> {
	const now = new Date().toISOString();
	const created = newKeyItem({
		workspaceId: current.workspaceId,
		cell: current.cell,
		settings: current,
		spentMicroUsd: current.spentMicroUsd,
		createdAt: now,
	});
	created.item.rotatedFromKeyId = current.keyId;
	const audit = auditEventPut(store, {
		workspaceId: current.workspaceId,
		action: "apiKey.rotated",
		actor,
		details: {
			keyId: current.keyId,
			newKeyId: created.item.keyId,
			prefix: created.item.prefix,
		},
		createdAt: now,
	});

	const revoke = revokeUpdate(store, current, now);
	revoke.Update.UpdateExpression += ", replacedByKeyId = :replacedBy";
	revoke.Update.ConditionExpression +=
		" AND spentMicroUsd = :spent AND reservedMicroUsd = :reserved";
	revoke.Update.ExpressionAttributeValues = {
		...revoke.Update.ExpressionAttributeValues,
		":replacedBy": created.item.keyId,
		":spent": current.spentMicroUsd,
		":reserved": current.reservedMicroUsd,
	};
	await transactWrite(store, [
		revoke,
		putNewItem(store, created.item),
		audit.put,
	]);
	return created;
}

async function requireApiKey(store: Store, keyId: string): Promise<ApiKeyItem> {
	const item = await getApiKeyById(store, keyId);
	if (!item) {
		throw notFound(
			`API key ${keyId} was not found. List the workspace's keys to find its id.`,
			"key_not_found",
			"keyId",
		);
	}
	// The index is eventually consistent, so the current state comes from the
	// table item.
	return (await getApiKeyByHash(store, item.keyHash)) ?? item;
}

interface KeySettings {
	name: string;
	scopes: ApiKeyItem["scopes"];
	allowedModels?: string[];
	expiresAt?: string;
	tags: KeyTags;
	rateLimit?: RateLimit;
	budgetMicroUsd?: number;
}

function newKeyItem(input: {
	workspaceId: string;
	cell: string;
	settings: KeySettings;
	spentMicroUsd: number;
	createdAt: string;
}): CreatedApiKey {
	const key = generateApiKey(input.cell);
	const keyHash = hashApiKey(key);
	const keyId = newKeyId();
	const { settings } = input;
	const item: ApiKeyItem = {
		...keys.apiKey(keyHash),
		sk: "KEY",
		...keys.apiKeyInWorkspace(input.workspaceId, keyId),
		...keys.apiKeyById(keyId),
		entity: "apiKey",
		keyId,
		keyHash,
		workspaceId: input.workspaceId,
		cell: input.cell,
		name: settings.name,
		prefix: maskApiKey(key),
		scopes: [...settings.scopes],
		status: "active",
		createdAt: input.createdAt,
		spentMicroUsd: input.spentMicroUsd,
		reservedMicroUsd: 0,
		tags: { ...settings.tags },
		...(settings.expiresAt ? { expiresAt: settings.expiresAt } : {}),
		...(settings.allowedModels
			? { allowedModels: [...settings.allowedModels] }
			: {}),
		...(settings.rateLimit ? { rateLimit: { ...settings.rateLimit } } : {}),
		...(settings.budgetMicroUsd === undefined
			? {}
			: {
					budgetMicroUsd: settings.budgetMicroUsd,
					budgetRemainingMicroUsd:
						settings.budgetMicroUsd - input.spentMicroUsd,
				}),
	};
	return { key, item };
}

function revokeUpdate(store: Store, current: ApiKeyItem, revokedAt: string) {
	return {
		Update: {
			TableName: store.tableName,
			Key: keys.apiKey(current.keyHash),
			UpdateExpression: "SET #status = :revoked, revokedAt = :revokedAt",
			ConditionExpression: "#status = :active",
			ExpressionAttributeNames: { "#status": "status" },
			ExpressionAttributeValues: {
				":revoked": "revoked",
				":active": "active",
				":revokedAt": revokedAt,
			} as Record<string, unknown>,
		},
	};
}

function budgetUpdate(
	store: Store,
	current: ApiKeyItem,
	budget: number | null,
	remaining: number | undefined,
) {
	const values: Record<string, unknown> = {
		":spent": current.spentMicroUsd,
		":reserved": current.reservedMicroUsd,
	};
	if (budget !== null) {
		values[":budget"] = budget;
		values[":remaining"] = remaining;
	}
	return {
		Update: {
			TableName: store.tableName,
			Key: keys.apiKey(current.keyHash),
			UpdateExpression:
				budget === null
					? "REMOVE budgetMicroUsd, budgetRemainingMicroUsd"
					: "SET budgetMicroUsd = :budget, budgetRemainingMicroUsd = :remaining",
			ConditionExpression:
				"attribute_exists(pk) AND spentMicroUsd = :spent AND reservedMicroUsd = :reserved",
			ExpressionAttributeValues: values,
		},
	};
}

/** Key fields for an audit event; never the secret or its hash. */
function describeKey(item: ApiKeyItem): Record<string, unknown> {
	return {
		keyId: item.keyId,
		name: item.name,
		prefix: item.prefix,
		scopes: item.scopes,
		budgetMicroUsd: item.budgetMicroUsd ?? null,
		allowedModels: item.allowedModels ?? null,
		expiresAt: item.expiresAt ?? null,
		tags: item.tags,
	};
}
