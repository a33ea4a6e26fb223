/**
 * The portal's route table: method, path pattern (`{id}` matches one path
 * segment) and handler. Every route but sign-in and sign-out needs a caller.
 */
import type { Store } from "../store/client.ts";
import type { RouteHandler } from "./context.ts";
import type { PortalRequest, PortalResponse } from "./http.ts";
import { me, overview, seller, signIn, signOut } from "./routes/account.ts";
import {
	createPurchaseRoute,
	getReceiptRoute,
	listPurchasesRoute,
	listReceiptsRoute,
} from "./routes/billing.ts";
import {
	createKey,
	listKeys,
	revokeKey,
	rotateKey,
	updateKey,
} from "./routes/keys.ts";
import {
	catalogRoute,
	getPolicyRoute,
	putPolicyRoute,
} from "./routes/policy.ts";
import { getRequestRoute, listRequestsRoute } from "./routes/requests.ts";
import { usageCsv, usageReport } from "./routes/usage.ts";

export type PublicHandler = (
	store: Store,
	request: PortalRequest,
) => Promise<PortalResponse>;

export interface Route {
	method: string;
	pattern: string;
	handler: RouteHandler;
}

export const PUBLIC_ROUTES: {
	method: string;
	path: string;
	handler: PublicHandler;
}[] = [
	{ method: "POST", path: "/session", handler: signIn },
	{ method: "DELETE", path: "/session", handler: signOut },
];

export const ROUTES: Route[] = [
	{ method: "GET", pattern: "/me", handler: me },
	{ method: "GET", pattern: "/overview", handler: overview },
	{ method: "GET", pattern: "/keys", handler: listKeys },
	{ method: "POST", pattern: "/keys", handler: createKey },
	{ method: "POST", pattern: "/keys/{id}/revoke", handler: revokeKey },
	{ method: "POST", pattern: "/keys/{id}/rotate", handler: rotateKey },
	{ method: "PATCH", pattern: "/keys/{id}", handler: updateKey },
	{ method: "GET", pattern: "/usage", handler: usageReport },
	{ method: "GET", pattern: "/usage.csv", handler: usageCsv },
	{ method: "GET", pattern: "/receipts", handler: listReceiptsRoute },
	{ method: "GET", pattern: "/receipts/{id}", handler: getReceiptRoute },
	{ method: "GET", pattern: "/policy", handler: getPolicyRoute },
	{ method: "PUT", pattern: "/policy", handler: putPolicyRoute },
	{ method: "GET", pattern: "/catalog", handler: catalogRoute },
	{ method: "GET", pattern: "/purchases", handler: listPurchasesRoute },
	{ method: "POST", pattern: "/purchases", handler: createPurchaseRoute },
	{ method: "GET", pattern: "/requests", handler: listRequestsRoute },
	{ method: "GET", pattern: "/requests/{id}", handler: getRequestRoute },
	{ method: "GET", pattern: "/seller", handler: seller },
];

export type RouteMatch =
	| { kind: "route"; route: Route; params: Record<string, string> }
	| { kind: "method_not_allowed"; allowed: string[] }
	| { kind: "not_found" };

/** Matches a path below `/portal` against the route table. */
export function matchRoute(method: string, path: string): RouteMatch {
	const segments = path.split("/").filter(Boolean);
	const allowed: string[] = [];
	for (const route of ROUTES) {
		const parts = route.pattern.split("/").filter(Boolean);
		if (parts.length !== segments.length) continue;
		const params: Record<string, string> = {};
		const matches = parts.every((part, index) => {
			const segment = segments[index] as string;
			if (part.startsWith("{") && part.endsWith("}")) {
				params[part.slice(1, -1)] = decodeURIComponent(segment);
				return true;
			}
			return part === segment;
		});
		if (!matches) continue;
		if (route.method === method) return { kind: "route", route, params };
		allowed.push(route.method);
	}
	return allowed.length > 0
		? { kind: "method_not_allowed", allowed }
		: { kind: "not_found" };
}
