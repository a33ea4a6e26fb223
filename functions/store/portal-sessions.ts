/**
 * Portal sign-in without a hosted identity provider (local runs, the admin
 * CLI): a one-time sign-in link carries a random token, which the portal
 * exchanges once for a session cookie. Both are stored only as SHA-256
 * hashes, and both expire through the table's TTL attribute as well as an
 * explicit expiry check (TTL deletion can lag by hours).
 *
 * | item            | pk                   | sk        |
 * | --------------- | -------------------- | --------- |
 * | sign-in token   | `SIGNIN#<sha256>`    | `SIGNIN`  |
 * | portal session  | `SESSION#<sha256>`   | `SESSION` |
 */
import { createHash, randomBytes } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { keys, TTL_ATTRIBUTE } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import { type MemberRole, putMember } from "./members.ts";

/** Lifetime of a sign-in link: 15 minutes. */
export const SIGN_IN_TOKEN_TTL_SECONDS = 15 * 60;
/** Lifetime of a portal session: 12 hours. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

export interface PortalSession {
	workspaceId: string;
	userId: string;
	role: MemberRole;
	/** Platform operators also see provider cost and gross margin. */
	operator: boolean;
	email?: string;
	createdAt: string;
	expiresAt: string;
}

export interface SignInLinkOptions {
	workspaceId: string;
	userId: string;
	role: MemberRole;
	/** Portal origin, such as `http://127.0.0.1:8787`. */
	baseUrl: string;
	email?: string;
	operator?: boolean;
	/** Home cell id, so the portal calls the right cell's API. */
	cell?: string;
	ttlSeconds?: number;
}

function sha256(text: string): string {
	return createHash("sha256").update(text, "utf8").digest("hex");
}

function randomToken(): string {
	return randomBytes(32).toString("base64url");
}

const signInKey = (tokenHash: string) => ({
	pk: `SIGNIN#${tokenHash}`,
	sk: "SIGNIN",
});

/**
 * Creates a one-time sign-in link for a workspace member. Adds the user to
 * the workspace with the role (or updates the role), then stores the hash of
 * a fresh token that expires after `ttlSeconds` (15 minutes by default).
 *
 * The token travels in the URL fragment (`/sign-in/#token=…`), so it never
 * reaches a server log; the sign-in page posts it to `POST /portal/session`.
 *
 * @returns the sign-in URL to hand to the user.
 */
export async function createSignInLink(
	store: Store,
	options: SignInLinkOptions,
): Promise<string> {
	await putMember(store, {
		workspaceId: options.workspaceId,
		userId: options.userId,
		role: options.role,
		...(options.email ? { email: options.email } : {}),
	});

	const token = randomToken();
	const now = Date.now();
	const expiresAtMs =
		now + (options.ttlSeconds ?? SIGN_IN_TOKEN_TTL_SECONDS) * 1000;
	await store.doc.send(
		new PutCommand({
			TableName: store.tableName,
			Item: {
				...signInKey(sha256(token)),
				entity: "signInToken",
				workspaceId: options.workspaceId,
				userId: options.userId,
				role: options.role,
				operator: options.operator === true,
				email: options.email,
				createdAt: new Date(now).toISOString(),
				expiresAt: new Date(expiresAtMs).toISOString(),
				[TTL_ATTRIBUTE]: Math.ceil(expiresAtMs / 1000),
			},
		}),
	);

	const url = new URL("/sign-in/", options.baseUrl);
	const fragment = new URLSearchParams({ token });
	if (options.cell) fragment.set("cell", options.cell);
	url.hash = fragment.toString();
	return url.toString();
}

/**
 * Exchanges a sign-in token for a new session. The token item is deleted in
 * the same conditional call that reads it, so a token works at most once,
 * even when two exchanges race.
 *
 * @returns the session token (for the cookie) and the session, or
 *   `undefined` when the token is unknown, used or expired.
 */
export async function exchangeSignInToken(
	store: Store,
	token: string,
): Promise<{ sessionToken: string; session: PortalSession } | undefined> {
	let item: Record<string, unknown> | undefined;
	try {
		const result = await store.doc.send(
			new DeleteCommand({
				TableName: store.tableName,
				Key: signInKey(sha256(token)),
				ConditionExpression: "attribute_exists(pk)",
				ReturnValues: "ALL_OLD",
			}),
		);
		item = result.Attributes;
	} catch (error) {
		if ((error as Error).name === "ConditionalCheckFailedException") {
			return undefined;
		}
		throw error;
	}
	if (!item || Date.parse(String(item.expiresAt)) <= Date.now()) {
		return undefined;
	}

	const sessionToken = randomToken();
	const now = Date.now();
	const expiresAtMs = now + SESSION_TTL_SECONDS * 1000;
	const session: PortalSession = {
		workspaceId: String(item.workspaceId),
		userId: String(item.userId),
		role: item.role as MemberRole,
		operator: item.operator === true,
		createdAt: new Date(now).toISOString(),
		expiresAt: new Date(expiresAtMs).toISOString(),
	};
	if (typeof item.email === "string") session.email = item.email;
	await store.doc.send(
		new PutCommand({
			TableName: store.tableName,
			Item: {
				...keys.session(sha256(sessionToken)),
				entity: "portalSession",
				...session,
				[TTL_ATTRIBUTE]: Math.ceil(expiresAtMs / 1000),
			},
		}),
	);
	return { sessionToken, session };
}

/**
 * Looks up a session by the token from its cookie.
 *
 * @returns the session, or `undefined` when it is unknown or expired.
 */
export async function getSession(
	store: Store,
	sessionToken: string,
): Promise<PortalSession | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.session(sha256(sessionToken)),
		}),
	);
	const item = result.Item;
	if (!item || Date.parse(String(item.expiresAt)) <= Date.now()) {
		return undefined;
	}
	const session: PortalSession = {
		workspaceId: String(item.workspaceId),
		userId: String(item.userId),
		role: item.role as MemberRole,
		operator: item.operator === true,
		createdAt: String(item.createdAt),
		expiresAt: String(item.expiresAt),
	};
	if (typeof item.email === "string") session.email = item.email;
	return session;
}

/** Deletes a session (sign-out). Deleting an unknown session is not an error. */
export async function deleteSession(
	store: Store,
	sessionToken: string,
): Promise<void> {
	await store.doc.send(
		new DeleteCommand({
			TableName: store.tableName,
			Key: keys.session(sha256(sessionToken)),
		}),
	);
}
