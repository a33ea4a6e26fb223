/**
 * The gateway's public routes for the REST API resource tree, built from the
 * local runtime's route table so that both runtimes serve the same paths.
 */
import { ROUTES, type Route } from "../local/routes.ts";

/** Function that serves a route, named after its folder under functions/. */
export type RouteTarget = "chat" | "api" | "portal";

/**
 * Authentication of a route's caller:
 * - `apiKey`: the handler checks the `Authorization: Bearer sk-gag-…` key itself;
 * - `cognito`: API Gateway checks a Cognito ID token before invoking the handler;
 * - `none`: public.
 */
export type RouteAuth = "apiKey" | "cognito" | "none";

export interface ApiRoute {
	method: Route["method"];
	/** API Gateway resource path, with `{name}` and `{proxy+}` parameters. */
	path: string;
	target: RouteTarget;
	auth: RouteAuth;
	/** Whether API Gateway streams the response. */
	streaming: boolean;
	/** Integration timeout in ms. */
	timeoutMs: number;
}

/** Routes that need no credentials. */
const PUBLIC_PATHS = new Set(["/health"]);

const AUTH_BY_TARGET: Record<RouteTarget, RouteAuth> = {
	chat: "apiKey",
	api: "apiKey",
	portal: "cognito",
};

/** Maps a local route to its target function and authentication. */
export function toApiRoute(route: Route): ApiRoute {
	const target = /^functions\/(\w+)\/handler\.ts$/.exec(route.handler)?.[1];
	if (target !== "chat" && target !== "api" && target !== "portal") {
		throw new Error(
			`Route ${route.method} ${route.resource} names handler "${route.handler}", which no gateway function serves. Use functions/{chat,api,portal}/handler.ts.`,
		);
	}
	return {
		method: route.method,
		path: route.resource,
		target,
		auth: PUBLIC_PATHS.has(route.resource) ? "none" : AUTH_BY_TARGET[target],
		streaming: route.streaming,
		timeoutMs: route.timeoutMs,
	};
}

export const API_ROUTES: readonly ApiRoute[] = ROUTES.map(toApiRoute);
