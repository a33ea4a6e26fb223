/**
 * Portal API (buffered, API Gateway REST proxy under `/portal/...`). Thin:
 * parse the event, resolve the signed-in caller, run the route, respond with
 * JSON. Errors are OpenAI-shaped JSON with the right status.
 */
import middy from "@middy/core";
import type {
	APIGatewayProxyEvent,
	APIGatewayProxyResult,
	Context,
} from "aws-lambda";
import { GatewayError, notFound, toGatewayError } from "../../shared/errors.ts";
import { errorSummary, loggerFor } from "../observability/logger.ts";
import { type Store, storeFromEnvironment } from "../store/client.ts";
import { resolveCaller } from "./auth.ts";
import {
	assertSameOrigin,
	json,
	type PortalRequest,
	toPortalRequest,
	toProxyResult,
} from "./http.ts";
import { matchRoute, PUBLIC_ROUTES } from "./router.ts";

const log = loggerFor("gateway-portal");

async function route(store: Store, request: PortalRequest) {
	assertSameOrigin(request);
	const publicRoute = PUBLIC_ROUTES.find(
		(entry) => entry.method === request.method && entry.path === request.path,
	);
	if (publicRoute) return publicRoute.handler(store, request);

	const match = matchRoute(request.method, request.path);
	if (match.kind === "not_found") {
		throw notFound(
			`No portal route ${request.method} /portal${request.path}. Check the path.`,
			"route_not_found",
		);
	}
	if (match.kind === "method_not_allowed") {
		throw new GatewayError(
			405,
			"invalid_request_error",
			"method_not_allowed",
			`${request.method} is not allowed on /portal${request.path}. Use ${match.allowed.join(" or ")}.`,
			{ headers: { allow: match.allowed.join(", ") } },
		);
	}
	const caller = await resolveCaller(store, request);
	return match.route.handler({ store, request, caller, params: match.params });
}

/**
 * Handles one portal event. Exported with an injectable store for tests
 * and the local runtime.
 */
export async function handlePortalEvent(
	event: APIGatewayProxyEvent,
	store: Store = storeFromEnvironment(),
	requestId = event.requestContext?.requestId ?? "",
): Promise<APIGatewayProxyResult> {
	const request = toPortalRequest(event);
	if (request.method === "OPTIONS") {
		return toProxyResult(request, { status: 204, body: undefined });
	}
	try {
		return toProxyResult(request, await route(store, request));
	} catch (caught) {
		const error = toGatewayError(caught);
		if (error.status >= 500) {
			log.error("portal request failed", {
				requestId,
				method: request.method,
				path: request.path,
				status: error.status,
				...errorSummary(caught),
			});
		}
		return toProxyResult(
			request,
			json(error.toJSON(), error.status, {
				...error.headers,
				"x-request-id": requestId,
			}),
		);
	}
}

export const handler = middy<
	APIGatewayProxyEvent,
	APIGatewayProxyResult
>().handler((event: APIGatewayProxyEvent, context: Context) =>
	handlePortalEvent(event, storeFromEnvironment(), context.awsRequestId),
);
