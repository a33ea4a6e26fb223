/**
 * The API's route table: the one list of REST API resources, their methods
 * and the Lambda handler behind each. The local server serves exactly these,
 * and the CDK stack can build its resource tree from the same list.
 */

export type RouteMethod = "GET" | "POST" | "ANY";

export interface Route {
	method: RouteMethod;
	/** API Gateway resource path, with `{name}` and `{proxy+}` parameters. */
	resource: string;
	/** Handler module, relative to the repository root. */
	handler: string;
	/** Exported function to invoke; `handler` when absent. */
	exportName?: string;
	/** Whether API Gateway streams the response (`ResponseTransferMode.STREAM`). */
	streaming: boolean;
	/** Function timeout in ms; also the local invocation deadline. */
	timeoutMs: number;
}

const CHAT_HANDLER = "functions/chat/handler.ts";
const API_HANDLER = "functions/api/handler.ts";
const PORTAL_HANDLER = "functions/portal/handler.ts";

/** Streamed responses may run up to 15 minutes on a REST API. */
const STREAMING_TIMEOUT_MS = 900_000;
/** Buffered REST integrations stop at 29 s. */
const BUFFERED_TIMEOUT_MS = 29_000;

export const ROUTES: readonly Route[] = [
	{
		method: "POST",
		resource: "/v1/chat/completions",
		handler: CHAT_HANDLER,
		streaming: true,
		timeoutMs: STREAMING_TIMEOUT_MS,
	},
	...[
		"/health",
		"/v1/models",
		"/v1/models/{id}",
		"/v1/key",
		"/v1/credits",
		"/v1/usage",
		"/v1/receipts/{id}",
		"/v1/requests/{id}",
	].map(
		(resource): Route => ({
			method: "GET",
			resource,
			handler: API_HANDLER,
			streaming: false,
			timeoutMs: BUFFERED_TIMEOUT_MS,
		}),
	),
	{
		method: "ANY",
		resource: "/portal/{proxy+}",
		handler: PORTAL_HANDLER,
		streaming: false,
		timeoutMs: BUFFERED_TIMEOUT_MS,
	},
];

export interface RouteMatch {
	route: Route;
	pathParameters: Record<string, string> | null;
}

/**
 * Finds the route for a method and path as API Gateway does: literal
 * segments match exactly, `{name}` matches one segment and `{proxy+}` the
 * rest (at least one segment). Path parameters are URL-decoded.
 *
 * @returns the match, `"method"` when the path exists with other methods,
 *   or null.
 */
export function matchRoute(
	routes: readonly Route[],
	method: string,
	path: string,
): RouteMatch | "method" | null {
	let pathMatched = false;
	for (const route of routes) {
		const pathParameters = matchResource(route.resource, path);
		if (pathParameters === undefined) continue;
		pathMatched = true;
		if (route.method === "ANY" || route.method === method) {
			return {
				route,
				pathParameters:
					Object.keys(pathParameters).length > 0 ? pathParameters : null,
			};
		}
	}
	return pathMatched ? "method" : null;
}

/** Methods allowed on a path, for the `allow` header of a 405. */
export function allowedMethods(
	routes: readonly Route[],
	path: string,
): string[] {
	return routes
		.filter((route) => matchResource(route.resource, path) !== undefined)
		.map((route) => route.method);
}

function matchResource(
	resource: string,
	path: string,
): Record<string, string> | undefined {
	const resourceSegments = resource.split("/").slice(1);
	const pathSegments = path.split("/").slice(1);
	const parameters: Record<string, string> = {};

	for (let index = 0; index < resourceSegments.length; index++) {
		const segment = resourceSegments[index] as string;
		const greedy = /^\{(\w+)\+\}$/.exec(segment);
		if (greedy) {
			const rest = pathSegments.slice(index).join("/");
			if (rest.length === 0) return undefined;
			parameters[greedy[1] as string] = safeDecode(rest);
			return parameters;
		}
		const value = pathSegments[index];
		if (value === undefined || value.length === 0) return undefined;
		const named = /^\{(\w+)\}$/.exec(segment);
		if (named) parameters[named[1] as string] = safeDecode(value);
		else if (segment !== value) return undefined;
	}
	return pathSegments.length === resourceSegments.length
		? parameters
		: undefined;
}

function safeDecode(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		return value;
	}
}
