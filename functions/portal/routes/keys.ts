/**
 * API key routes: list, create (the secret is returned once), revoke,
 * rotate and edit the budget cap. A key id from the path must belong to the
 * caller's workspace, or the route returns 404 as for an unknown id.
 */
import { invalidRequest, notFound } from "../../../shared/errors.ts";
import { parseUsd } from "../../../shared/money.ts";
import {
	createApiKey,
	getApiKeyById,
	listApiKeys,
	revokeApiKey,
	rotateApiKey,
	updateKeyBudget,
} from "../../store/api-keys.ts";
import type { ApiKeyItem, KeyTags } from "../../store/items.ts";
import { requirePermission } from "../auth.ts";
import type { RouteContext } from "../context.ts";
import { json, type PortalResponse, readJsonBody } from "../http.ts";
import { requireWorkspace } from "./workspace.ts";

/** A key's status as the portal shows it. An expired key is not usable. */
export type KeyViewStatus = ApiKeyItem["status"] | "expired";

/** A key as the portal shows it: no hash, no table keys. */
export interface KeyView {
	keyId: string;
	name: string;
	prefix: string;
	scopes: string[];
	status: KeyViewStatus;
	createdAt: string;
	expiresAt?: string;
	revokedAt?: string;
	lastUsedAt?: string;
	allowedModels?: string[];
	budgetMicroUsd?: number;
	spentMicroUsd: number;
	tags: KeyTags;
}

/**
 * Derives the status the portal shows: the stored status, or `expired` for
 * an active key whose `expiresAt` is at or before `now`.
 */
export function keyViewStatus(
	item: ApiKeyItem,
	now = new Date(),
): KeyViewStatus {
	if (item.status !== "active" || item.expiresAt === undefined) {
		return item.status;
	}
	return new Date(item.expiresAt) <= now ? "expired" : "active";
}

export function toKeyView(item: ApiKeyItem, now = new Date()): KeyView {
	const view: KeyView = {
		keyId: item.keyId,
		name: item.name,
		prefix: item.prefix,
		scopes: item.scopes,
		status: keyViewStatus(item, now),
		createdAt: item.createdAt,
		spentMicroUsd: item.spentMicroUsd,
		tags: item.tags ?? {},
	};
	if (item.expiresAt) view.expiresAt = item.expiresAt;
	if (item.revokedAt) view.revokedAt = item.revokedAt;
	if (item.lastUsedAt) view.lastUsedAt = item.lastUsedAt;
	if (item.allowedModels) view.allowedModels = item.allowedModels;
	if (item.budgetMicroUsd !== undefined) {
		view.budgetMicroUsd = item.budgetMicroUsd;
	}
	return view;
}

/**
 * Gets a key of the caller's workspace.
 *
 * @throws 404 when no key has the id in this workspace.
 */
export async function requireWorkspaceKey(
	context: RouteContext,
	keyId: string,
): Promise<ApiKeyItem> {
	const item = await getApiKeyById(context.store, keyId);
	if (!item || item.workspaceId !== context.caller.workspaceId) {
		throw notFound(
			`API key ${keyId} was not found in this workspace. List the keys to find its id.`,
			"key_not_found",
			"keyId",
		);
	}
	return item;
}

/** Parses an optional USD amount field into micro-USD. @throws 400 */
export function optionalUsd(
	body: Record<string, unknown>,
	field: string,
): number | undefined {
	const value = body[field];
	if (value === undefined || value === null || value === "") return undefined;
	if (typeof value !== "string" && typeof value !== "number") {
		throw invalidRequest(
			`${field} must be a USD amount such as "25.00".`,
			field,
		);
	}
	try {
		return parseUsd(value);
	} catch (error) {
		throw invalidRequest((error as Error).message, field);
	}
}

function optionalStringList(
	body: Record<string, unknown>,
	field: string,
): string[] | undefined {
	const value = body[field];
	if (value === undefined || value === null) return undefined;
	if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
		throw invalidRequest(`${field} must be a list of strings.`, field);
	}
	return value.length === 0 ? undefined : value;
}

/** Reads the expiry: `expiresOn` (a day, valid through its end, UTC) or `expiresAt`. */
function readExpiry(body: Record<string, unknown>): string | undefined {
	const day = body.expiresOn;
	if (typeof day === "string" && day !== "") {
		if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
			throw invalidRequest(
				`Invalid expiresOn "${day}": use a day as yyyy-mm-dd.`,
				"expiresOn",
			);
		}
		return `${day}T23:59:59.999Z`;
	}
	return typeof body.expiresAt === "string" && body.expiresAt !== ""
		? body.expiresAt
		: undefined;
}

export async function listKeys(context: RouteContext): Promise<PortalResponse> {
	const items = await listApiKeys(context.store, context.caller.workspaceId);
	const now = new Date();
	return json({ keys: items.map((item) => toKeyView(item, now)) });
}

export async function createKey(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "keys:write");
	const body = readJsonBody(context.request);
	const workspace = await requireWorkspace(context);
	const budgetMicroUsd = optionalUsd(body, "budgetUsd");
	const allowedModels = optionalStringList(body, "allowedModels");
	const expiresAt = readExpiry(body);

	const created = await createApiKey(context.store, {
		workspaceId: workspace.workspaceId,
		cell: workspace.cell,
		name: typeof body.name === "string" ? body.name : "",
		scopes: optionalStringList(body, "scopes") ?? ["chat.completions"],
		...(budgetMicroUsd === undefined ? {} : { budgetMicroUsd }),
		...(allowedModels ? { allowedModels } : {}),
		...(expiresAt ? { expiresAt } : {}),
		tags: (body.tags ?? {}) as KeyTags,
		actor: context.caller.userId,
	});
	return json({ key: created.key, item: toKeyView(created.item) }, 201);
}

export async function revokeKey(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "keys:write");
	const key = await requireWorkspaceKey(context, context.params.id ?? "");
	const item = await revokeApiKey(
		context.store,
		key.keyId,
		context.caller.userId,
	);
	return json({ item: toKeyView(item) });
}

export async function rotateKey(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "keys:write");
	const key = await requireWorkspaceKey(context, context.params.id ?? "");
	const rotated = await rotateApiKey(context.store, {
		keyId: key.keyId,
		actor: context.caller.userId,
	});
	return json({ key: rotated.key, item: toKeyView(rotated.item) }, 201);
}

/** PATCH a key: `budgetUsd` sets the cap, `null` removes it. */
export async function updateKey(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "keys:write");
	const body = readJsonBody(context.request);
	if (!("budgetUsd" in body)) {
		throw invalidRequest(
			'Nothing to update: send {"budgetUsd": "25.00"} to set the cap, or {"budgetUsd": null} to remove it.',
			"budgetUsd",
		);
	}
	const key = await requireWorkspaceKey(context, context.params.id ?? "");
	const item = await updateKeyBudget(context.store, {
		keyId: key.keyId,
		budgetMicroUsd: optionalUsd(body, "budgetUsd") ?? null,
		actor: context.caller.userId,
	});
	return json({ item: toKeyView(item) });
}
