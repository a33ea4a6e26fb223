/**
 * API key authentication for the gateway's API: format and checksum first
 * (no lookup), then the key item by its SHA-256 hash, cached in the function
 * for at most 5 seconds so a revoked key stops working within that.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { CELLS } from "../../infra/cells.ts";
import {
	type KeyScope,
	maskApiKey,
	parseApiKey,
} from "../../shared/api-key.ts";
import { authenticationFailed, permissionDenied } from "../../shared/errors.ts";
import { keys } from "../../shared/table.ts";
import type { Store } from "../store/client.ts";
import type { ApiKeyItem, BalanceItem, WorkspaceItem } from "../store/items.ts";

/** Upper bound of the key cache's lifetime, in milliseconds. */
export const MAX_KEY_CACHE_TTL_MS = 5_000;
const MAX_CACHED_KEYS = 10_000;

export interface AuthenticatedKey {
	key: ApiKeyItem;
	workspace: WorkspaceItem;
	/**
	 * Available credit when the key was looked up, up to 5 seconds old. Only
	 * a hint for planning; the reservation transaction enforces the balance.
	 */
	approximateAvailableMicroUsd: number;
	/** Masked key, safe for logs and messages. */
	maskedKey: string;
}

interface CacheEntry {
	value: AuthenticatedKey | undefined;
	fetchedAt: number;
}

const cache = new Map<string, CacheEntry>();

function cacheTtlMs(): number {
	const configured = Number(
		process.env.KEY_CACHE_TTL_MS ?? MAX_KEY_CACHE_TTL_MS,
	);
	return Number.isFinite(configured)
		? Math.min(Math.max(configured, 0), MAX_KEY_CACHE_TTL_MS)
		: MAX_KEY_CACHE_TTL_MS;
}

async function lookUp(
	store: Store,
	hash: string,
	maskedKey: string,
): Promise<AuthenticatedKey | undefined> {
	const found = await store.doc.send(
		new GetCommand({ TableName: store.tableName, Key: keys.apiKey(hash) }),
	);
	const key = found.Item as ApiKeyItem | undefined;
	if (!key) return undefined;
	const [workspace, balance] = await Promise.all([
		store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.workspace(key.workspaceId),
			}),
		),
		store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.balance(key.workspaceId),
			}),
		),
	]);
	if (!workspace.Item) return undefined;
	return {
		key,
		workspace: workspace.Item as WorkspaceItem,
		maskedKey,
		approximateAvailableMicroUsd:
			(balance.Item as BalanceItem | undefined)?.availableMicroUsd ?? 0,
	};
}

/** Extracts the bearer token from an Authorization header value. */
export function bearerToken(
	authorization: string | undefined,
): string | undefined {
	if (!authorization) return undefined;
	const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
	return match?.[1];
}

function endpointHint(cellId: string): string {
	const cell = CELLS.find((candidate) => candidate.id === cellId);
	return cell?.apiUrl ? `${cell.apiUrl}` : `the ${cellId} cell's endpoint`;
}

/**
 * Authenticates a request's API key and checks its status, expiry and scope.
 *
 * @throws GatewayError 401 for a missing, malformed, unknown, revoked or
 *   expired key; 403 for a key of another cell or a missing scope.
 */
export async function authenticate(
	store: Store,
	authorization: string | undefined,
	options: {
		cellId: string;
		/** Scopes of which the key needs at least one. */
		scope: KeyScope | readonly KeyScope[];
		now?: number;
	},
): Promise<AuthenticatedKey> {
	const token = bearerToken(authorization);
	if (!token) {
		throw authenticationFailed(
			"Missing API key: send it in the Authorization header as 'Bearer sk-gag-…'.",
			"missing_api_key",
		);
	}
	const parsed = parseApiKey(token);
	if (!parsed) {
		throw authenticationFailed(
			"Invalid API key: it is not a well-formed sk-gag key or its checksum does not match. Copy the whole key again.",
		);
	}
	const maskedKey = maskApiKey(token);
	if (parsed.cell !== options.cellId) {
		throw permissionDenied(
			`API key ${maskedKey} belongs to cell "${parsed.cell}", not "${options.cellId}". Send the request to ${endpointHint(parsed.cell)}.`,
			"wrong_cell",
		);
	}

	const now = options.now ?? Date.now();
	let entry = cache.get(parsed.hash);
	if (!entry || now - entry.fetchedAt >= cacheTtlMs()) {
		entry = {
			value: await lookUp(store, parsed.hash, maskedKey),
			fetchedAt: now,
		};
		if (cache.size >= MAX_CACHED_KEYS) cache.clear();
		cache.set(parsed.hash, entry);
	}
	const authenticated = entry.value;
	if (!authenticated) {
		throw authenticationFailed(
			`API key ${maskedKey} is not known. Check the key or create a new one.`,
		);
	}
	const { key } = authenticated;
	if (key.status !== "active") {
		throw authenticationFailed(
			`API key ${maskedKey} (${key.keyId}) has been revoked. Create a new key.`,
			"key_revoked",
		);
	}
	if (key.expiresAt && Date.parse(key.expiresAt) <= now) {
		throw authenticationFailed(
			`API key ${maskedKey} (${key.keyId}) expired at ${key.expiresAt}. Create a new key.`,
			"key_expired",
		);
	}
	const accepted: readonly KeyScope[] =
		typeof options.scope === "string" ? [options.scope] : options.scope;
	if (!accepted.some((scope) => key.scopes.includes(scope))) {
		throw permissionDenied(
			`API key ${key.keyId} lacks the scope ${accepted.map((scope) => `"${scope}"`).join(" or ")}. Its scopes are: ${key.scopes.join(", ") || "none"}. Create a key with that scope.`,
			"missing_scope",
		);
	}
	return authenticated;
}

/** Empties the key cache; tests use it. */
export function clearKeyCache(): void {
	cache.clear();
}
