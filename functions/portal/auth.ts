/**
 * Caller resolution and role checks for the portal.
 *
 * Deployed, API Gateway's Cognito authorizer has verified the user and put
 * the claims in `requestContext.authorizer.claims`. Locally there is no
 * authorizer, so the caller presents the session cookie from a one-time
 * sign-in link. Either way the role comes from the workspace membership as
 * stored now, so a changed or removed membership takes effect at once.
 */
import { authenticationFailed, GatewayError } from "../../shared/errors.ts";
import type { Store } from "../store/client.ts";
import { findMembership, type MemberRole } from "../store/members.ts";
import { getSession } from "../store/portal-sessions.ts";
import { type PortalRequest, readCookie, SESSION_COOKIE } from "./http.ts";

/** Cognito group whose members are platform operators. */
export const OPERATOR_GROUP = "operators";

export interface Caller {
	workspaceId: string;
	userId: string;
	role: MemberRole;
	/** Platform operator, who also reads provider cost and gross margin. */
	operator: boolean;
	email?: string;
}

export type Permission =
	| "workspace:read"
	| "keys:write"
	| "billing:read"
	| "purchases:write"
	| "policy:write";

/**
 * Roles allowed each permission. Every role reads the workspace (overview,
 * keys, usage, policy, catalog, requests). Developers manage keys; billing
 * reads receipts and purchases and submits purchases; viewers only read
 * what is not billing.
 */
const GRANTS: Record<Permission, readonly MemberRole[]> = {
	"workspace:read": ["owner", "admin", "billing", "developer", "viewer"],
	"keys:write": ["owner", "admin", "developer"],
	"billing:read": ["owner", "admin", "billing"],
	"purchases:write": ["owner", "admin", "billing"],
	"policy:write": ["owner", "admin"],
};

/** Lists the permissions of a role, for the portal to hide what it cannot do. */
export function permissionsOf(role: MemberRole): Permission[] {
	return (Object.keys(GRANTS) as Permission[]).filter((permission) =>
		GRANTS[permission].includes(role),
	);
}

/** @throws 403 naming the permission and the roles that have it. */
export function requirePermission(
	caller: Caller,
	permission: Permission,
): void {
	if (GRANTS[permission].includes(caller.role)) return;
	throw new GatewayError(
		403,
		"permission_error",
		"insufficient_role",
		`Your role ${caller.role} does not allow ${permission}. Ask a workspace owner for one of these roles: ${GRANTS[permission].join(", ")}.`,
	);
}

function parseGroups(value: unknown): string[] {
	if (Array.isArray(value)) return value.map(String);
	if (typeof value !== "string" || value === "") return [];
	// API Gateway passes a list claim as "[a, b]" or "a,b".
	return value
		.replace(/^\[|\]$/g, "")
		.split(/[,\s]+/)
		.filter(Boolean);
}

const notSignedIn = () =>
	authenticationFailed(
		"You are not signed in, or your session expired. Sign in again with a new sign-in link.",
		"session_required",
	);

const notAMember = () =>
	new GatewayError(
		403,
		"permission_error",
		"not_a_member",
		"Your user is not a member of any workspace in this cell. Ask a workspace owner to add you.",
	);

/**
 * Resolves the caller from the Cognito claims or the session cookie.
 *
 * @throws 401 without a valid session, 403 when the user is not a member.
 */
export async function resolveCaller(
	store: Store,
	request: PortalRequest,
): Promise<Caller> {
	const claims = request.event.requestContext?.authorizer?.claims as
		| Record<string, unknown>
		| undefined;
	if (claims && typeof claims.sub === "string") {
		const membership = await findMembership(store, claims.sub);
		if (!membership) throw notAMember();
		const caller: Caller = {
			workspaceId: membership.workspaceId,
			userId: claims.sub,
			role: membership.role,
			operator: parseGroups(claims["cognito:groups"]).includes(OPERATOR_GROUP),
		};
		if (typeof claims.email === "string") caller.email = claims.email;
		return caller;
	}

	const token = readCookie(request, SESSION_COOKIE);
	if (!token) throw notSignedIn();
	const session = await getSession(store, token);
	if (!session) throw notSignedIn();
	const membership = await findMembership(
		store,
		session.userId,
		session.workspaceId,
	);
	if (!membership) throw notAMember();
	const caller: Caller = {
		workspaceId: session.workspaceId,
		userId: session.userId,
		role: membership.role,
		operator: session.operator,
	};
	if (session.email) caller.email = session.email;
	return caller;
}
