/**
 * Session, account and seller routes: sign-in with a one-time token,
 * sign-out, who the caller is, the overview, and the seller of record.
 */
import { authenticationFailed } from "../../../shared/errors.ts";
import { loadCatalog } from "../../catalog/load.ts";
import { listApiKeys } from "../../store/api-keys.ts";
import type { Store } from "../../store/client.ts";
import { getBalance } from "../../store/credit.ts";
import { countReceipts } from "../../store/portal-counts.ts";
import {
	deleteSession,
	exchangeSignInToken,
	SESSION_TTL_SECONDS,
} from "../../store/portal-sessions.ts";
import { permissionsOf } from "../auth.ts";
import type { RouteContext } from "../context.ts";
import {
	json,
	type PortalRequest,
	type PortalResponse,
	readCookie,
	readJsonBody,
	requireString,
	SESSION_COOKIE,
	sessionCookie,
} from "../http.ts";
import { readSellerOfRecord } from "../seller.ts";
import { describeRouteStatus, rateRoutes } from "./catalog.ts";
import { keyViewStatus } from "./keys.ts";
import { requireWorkspace } from "./workspace.ts";

/** POST /session: exchanges a one-time sign-in token for a session cookie. */
export async function signIn(
	store: Store,
	request: PortalRequest,
): Promise<PortalResponse> {
	const body = readJsonBody(request);
	const token = requireString(body, "token", 200);
	const exchanged = await exchangeSignInToken(store, token);
	if (!exchanged) {
		throw authenticationFailed(
			"This sign-in link is invalid, already used or expired. Ask for a new sign-in link.",
			"sign_in_link_invalid",
		);
	}
	const { session } = exchanged;
	return {
		status: 200,
		body: {
			workspaceId: session.workspaceId,
			role: session.role,
			expiresAt: session.expiresAt,
		},
		cookie: sessionCookie(request, exchanged.sessionToken, SESSION_TTL_SECONDS),
	};
}

/** DELETE /session: signs out; works without a valid session too. */
export async function signOut(
	store: Store,
	request: PortalRequest,
): Promise<PortalResponse> {
	const token = readCookie(request, SESSION_COOKIE);
	if (token) await deleteSession(store, token);
	return {
		status: 204,
		body: undefined,
		cookie: sessionCookie(request, "", 0),
	};
}

export async function me(context: RouteContext): Promise<PortalResponse> {
	const workspace = await requireWorkspace(context);
	const { caller } = context;
	return json({
		userId: caller.userId,
		...(caller.email ? { email: caller.email } : {}),
		role: caller.role,
		operator: caller.operator,
		permissions: permissionsOf(caller.role),
		workspace: {
			id: workspace.workspaceId,
			name: workspace.name,
			cell: workspace.cell,
		},
	});
}

export async function overview(context: RouteContext): Promise<PortalResponse> {
	const workspace = await requireWorkspace(context);
	const canReadBilling = permissionsOf(context.caller.role).includes(
		"billing:read",
	);
	const [balance, keys, catalog, receiptCount] = await Promise.all([
		getBalance(context.store, workspace.workspaceId),
		listApiKeys(context.store, workspace.workspaceId),
		loadCatalog(context.store, workspace.cell),
		canReadBilling
			? countReceipts(context.store, workspace.workspaceId)
			: Promise.resolve(undefined),
	]);
	const routes = rateRoutes(
		catalog,
		workspace.policy,
		workspace.cell,
		context.caller,
	);
	const count = (status: string) =>
		routes.filter((route) => route.policyStatus === status).length;
	const activeProviders = new Set(
		routes
			.filter((route) => route.policyStatus === "active")
			.map((route) => route.providerName),
	);

	return json({
		workspace: {
			id: workspace.workspaceId,
			name: workspace.name,
			cell: workspace.cell,
		},
		balance: {
			availableMicroUsd: balance?.availableMicroUsd ?? 0,
			reservedMicroUsd: balance?.reservedMicroUsd ?? 0,
		},
		keyCount: keys.length,
		activeKeyCount: keys.filter((key) => keyViewStatus(key) === "active")
			.length,
		...(receiptCount === undefined ? {} : { receiptCount }),
		policyProviders: [...activeProviders].sort(),
		routeCounts: {
			active: count("active"),
			inactive: count("inactive"),
			excluded: count("excluded"),
		},
		statusLine: describeRouteStatus(routes),
	});
}

export async function seller(_context: RouteContext): Promise<PortalResponse> {
	return json({ seller: readSellerOfRecord() });
}
