/**
 * The thin layer between an API Gateway REST proxy event and the portal
 * routes: path and query parsing, JSON bodies, cookies, and responses.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { GatewayError, invalidRequest } from "../../shared/errors.ts";

export const SESSION_COOKIE = "gag_session";

export interface PortalRequest {
	method: string;
	/** Path below `/portal`, such as `/keys/01J…/revoke`. */
	path: string;
	query: Record<string, string>;
	headers: Record<string, string>;
	event: APIGatewayProxyEvent;
}

/** Normalizes the event: lower-case headers and the path below `/portal`. */
export function toPortalRequest(event: APIGatewayProxyEvent): PortalRequest {
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(event.headers ?? {})) {
		if (value !== undefined) headers[name.toLowerCase()] = value;
	}
	const proxy = event.pathParameters?.proxy;
	const rawPath =
		proxy !== undefined ? `/${proxy}` : event.path.replace(/^\/portal/, "");
	const query: Record<string, string> = {};
	for (const [name, value] of Object.entries(
		event.queryStringParameters ?? {},
	)) {
		if (value !== undefined) query[name] = value;
	}
	return {
		method: event.httpMethod.toUpperCase(),
		path: rawPath.replace(/\/+$/, "") || "/",
		query,
		headers,
		event,
	};
}

/** Parses the JSON body. @throws 400 when it is missing or not an object. */
export function readJsonBody(request: PortalRequest): Record<string, unknown> {
	const { body, isBase64Encoded } = request.event;
	if (!body) {
		throw invalidRequest(
			"The request body is missing: send a JSON object with Content-Type: application/json.",
		);
	}
	const text = isBase64Encoded ? Buffer.from(body, "base64").toString() : body;
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw invalidRequest(
			"The request body is not valid JSON: send a JSON object.",
		);
	}
	if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
		throw invalidRequest("The request body must be a JSON object.");
	}
	return parsed as Record<string, unknown>;
}

/**
 * Reads one cookie from the `cookie` header. A value with invalid
 * percent-encoding counts as absent, so the portal returns 401 for it as for
 * a missing session.
 */
export function readCookie(
	request: PortalRequest,
	name: string,
): string | undefined {
	const header = request.headers.cookie ?? "";
	for (const part of header.split(";")) {
		const [cookieName, ...rest] = part.trim().split("=");
		if (cookieName !== name) continue;
		try {
			return decodeURIComponent(rest.join("="));
		} catch {
			return undefined;
		}
	}
	return undefined;
}

function hostName(request: PortalRequest): string {
	const host = request.headers.host ?? "";
	return host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
}

/** True for plain HTTP on loopback, the only place a cookie may lack Secure. */
export function isLoopbackHttp(request: PortalRequest): boolean {
	const loopback = ["127.0.0.1", "localhost", "::1"].includes(
		hostName(request),
	);
	const proto = request.headers["x-forwarded-proto"] ?? "http";
	return loopback && proto !== "https";
}

/** Builds the session cookie: HttpOnly, SameSite=Strict, Secure off loopback. */
export function sessionCookie(
	request: PortalRequest,
	value: string,
	maxAgeSeconds: number,
): string {
	const attributes = [
		`${SESSION_COOKIE}=${encodeURIComponent(value)}`,
		"Path=/",
		"HttpOnly",
		"SameSite=Strict",
		`Max-Age=${maxAgeSeconds}`,
	];
	if (!isLoopbackHttp(request)) attributes.push("Secure");
	return attributes.join("; ");
}

/**
 * Allowed cross-origin portal origins, from `PORTAL_ORIGINS` (comma
 * separated). The local runtime serves the site and the API from one origin.
 */
function allowedOrigins(): string[] {
	return (process.env.PORTAL_ORIGINS ?? "")
		.split(",")
		.map((origin) => origin.trim())
		.filter(Boolean);
}

/**
 * Rejects a state-changing request from a foreign origin. SameSite=Strict
 * already keeps the cookie off cross-site requests; this also covers
 * same-site subdomains.
 *
 * @throws 403 when the `origin` header names another origin.
 */
export function assertSameOrigin(request: PortalRequest): void {
	if (["GET", "HEAD", "OPTIONS"].includes(request.method)) return;
	const origin = request.headers.origin;
	if (!origin) return;
	const host = request.headers.host;
	const ownOrigins = host ? [`http://${host}`, `https://${host}`] : [];
	if (ownOrigins.includes(origin) || allowedOrigins().includes(origin)) return;
	throw new GatewayError(
		403,
		"permission_error",
		"origin_not_allowed",
		`Requests from origin ${origin} are not allowed. Open the portal from its own address, or add the origin to PORTAL_ORIGINS.`,
	);
}

/** CORS headers for an allowed cross-origin portal, with credentials. */
export function corsHeaders(request: PortalRequest): Record<string, string> {
	const origin = request.headers.origin;
	if (!origin || !allowedOrigins().includes(origin)) return {};
	return {
		"access-control-allow-origin": origin,
		"access-control-allow-credentials": "true",
		"access-control-allow-methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
		"access-control-allow-headers": "content-type",
		vary: "origin",
	};
}

export interface PortalResponse {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
	/** Raw text body (CSV); `body` is ignored when set. */
	text?: string;
	/** One `set-cookie` value; the portal never sets two at once. */
	cookie?: string;
}

/** Builds a JSON response. */
export function json(
	body: unknown,
	status = 200,
	headers: Record<string, string> = {},
): PortalResponse {
	return { status, body, headers };
}

/** Converts a route response into the API Gateway proxy result. */
export function toProxyResult(
	request: PortalRequest,
	response: PortalResponse,
): APIGatewayProxyResult {
	const headers: Record<string, string> = {
		"content-type": "application/json; charset=utf-8",
		"cache-control": "no-store",
		"x-content-type-options": "nosniff",
		...corsHeaders(request),
		...response.headers,
	};
	if (response.cookie) headers["set-cookie"] = response.cookie;
	return {
		statusCode: response.status,
		headers,
		body:
			response.text ??
			(response.status === 204 ? "" : JSON.stringify(response.body)),
	};
}

/** Reads a required string field. @throws 400 naming the field. */
export function requireString(
	body: Record<string, unknown>,
	field: string,
	maxLength = 200,
): string {
	const value = body[field];
	if (typeof value !== "string" || value.trim() === "") {
		throw invalidRequest(
			`${field} is missing: send a non-empty string.`,
			field,
		);
	}
	if (value.length > maxLength) {
		throw invalidRequest(
			`${field} is longer than ${maxLength} characters: shorten it.`,
			field,
		);
	}
	return value.trim();
}
