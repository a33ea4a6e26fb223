/**
 * The gateway's public routes, declared once for the REST API resource tree.
 *
 * NOTE: the local runtime under infra/local/ exports no route table yet. When
 * it does, build this list from it so that both runtimes serve the same paths.
 */

/** Function that serves a route, named after its folder under functions/. */
export type RouteTarget = "chat" | "api" | "portal";

/**
 * How a route authenticates its caller:
 * - `apiKey`: the handler checks the `Authorization: Bearer sk-gag-…` key itself;
 * - `cognito`: API Gateway checks a Cognito ID token before invoking the handler;
 * - `none`: public.
 */
export type RouteAuth = "apiKey" | "cognito" | "none";

export interface ApiRoute {
	method: "GET" | "POST" | "ANY";
	/** API Gateway resource path, with `{name}` and `{proxy+}` parameters. */
	path: string;
	target: RouteTarget;
	auth: RouteAuth;
}

export const API_ROUTES: readonly ApiRoute[] = [
	{
		method: "POST",
		path: "/v1/chat/completions",
		target: "chat",
		auth: "apiKey",
	},
	{ method: "GET", path: "/health", target: "api", auth: "none" },
	{ method: "GET", path: "/v1/models", target: "api", auth: "apiKey" },
	{ method: "GET", path: "/v1/key", target: "api", auth: "apiKey" },
	{ method: "GET", path: "/v1/credits", target: "api", auth: "apiKey" },
	{ method: "GET", path: "/v1/usage", target: "api", auth: "apiKey" },
	{ method: "GET", path: "/v1/receipts/{id}", target: "api", auth: "apiKey" },
	{ method: "GET", path: "/v1/requests/{id}", target: "api", auth: "apiKey" },
	{
		method: "ANY",
		path: "/portal/{proxy+}",
		target: "portal",
		auth: "cognito",
	},
];
