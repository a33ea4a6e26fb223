/**
 * Builds the API Gateway REST API proxy event (payload format 1.0) for an
 * HTTP request, with the fields API Gateway fills in: single- and multi-value
 * headers and query parameters, path parameters, the request context, and a
 * base64 body when the bytes are not valid UTF-8.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { LOCAL_ACCOUNT_ID } from "./lambda-runtime.ts";
import type { RouteMatch } from "./routes.ts";

export interface EventOptions {
	stage: string;
	/** `host:port` the server answers on, for `requestContext.domainName`. */
	domainName: string;
	requestId?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Builds the proxy event; `body` is the raw request body. */
export function buildProxyEvent(
	request: IncomingMessage,
	url: URL,
	match: RouteMatch,
	body: Buffer,
	options: EventOptions,
): APIGatewayProxyEvent {
	const now = new Date();
	const sourceIp = normalizeIp(request.socket.remoteAddress ?? "127.0.0.1");
	const { headers, multiValueHeaders } = collectHeaders(request, sourceIp);
	const query = collectQuery(url);
	const { text, isBase64Encoded } = encodeBody(body);
	const requestId = options.requestId ?? randomUUID();

	return {
		resource: match.route.resource,
		path: url.pathname,
		httpMethod: request.method ?? "GET",
		headers,
		multiValueHeaders,
		queryStringParameters: query.single,
		multiValueQueryStringParameters: query.multi,
		pathParameters: match.pathParameters,
		stageVariables: null,
		requestContext: {
			accountId: LOCAL_ACCOUNT_ID,
			apiId: "local",
			authorizer: null,
			domainName: options.domainName,
			domainPrefix: options.domainName.split(".")[0] ?? options.domainName,
			extendedRequestId: requestId,
			httpMethod: request.method ?? "GET",
			identity: {
				accessKey: null,
				accountId: null,
				apiKey: null,
				apiKeyId: null,
				caller: null,
				clientCert: null,
				cognitoAuthenticationProvider: null,
				cognitoAuthenticationType: null,
				cognitoIdentityId: null,
				cognitoIdentityPoolId: null,
				principalOrgId: null,
				sourceIp,
				user: null,
				userAgent: headerValue(request, "user-agent"),
				userArn: null,
			},
			path: `/${options.stage}${url.pathname}`,
			protocol: `HTTP/${request.httpVersion}`,
			requestId,
			requestTime: formatRequestTime(now),
			requestTimeEpoch: now.getTime(),
			resourceId: "local",
			resourcePath: match.route.resource,
			stage: options.stage,
		},
		body: text,
		isBase64Encoded,
	};
}

function collectHeaders(request: IncomingMessage, sourceIp: string) {
	const headers: Record<string, string> = {};
	const multiValueHeaders: Record<string, string[]> = {};
	const raw = request.rawHeaders;
	for (let index = 0; index + 1 < raw.length; index += 2) {
		const name = raw[index] as string;
		const value = raw[index + 1] as string;
		headers[name] = value;
		multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
	}

	const forwarded = {
		"X-Forwarded-For": sourceIp,
		"X-Forwarded-Port": String(request.socket.localPort ?? ""),
		"X-Forwarded-Proto": "http",
	};
	for (const [name, value] of Object.entries(forwarded)) {
		headers[name] = value;
		multiValueHeaders[name] = [value];
	}
	return { headers, multiValueHeaders };
}

function collectQuery(url: URL) {
	const single: Record<string, string> = {};
	const multi: Record<string, string[]> = {};
	for (const [name, value] of url.searchParams) {
		single[name] = value;
		multi[name] = [...(multi[name] ?? []), value];
	}
	const empty = Object.keys(single).length === 0;
	return { single: empty ? null : single, multi: empty ? null : multi };
}

function encodeBody(body: Buffer): {
	text: string | null;
	isBase64Encoded: boolean;
} {
	if (body.length === 0) return { text: null, isBase64Encoded: false };
	try {
		return { text: utf8.decode(body), isBase64Encoded: false };
	} catch {
		return { text: body.toString("base64"), isBase64Encoded: true };
	}
}

function headerValue(request: IncomingMessage, name: string): string | null {
	const value = request.headers[name];
	return typeof value === "string" ? value : null;
}

function normalizeIp(address: string): string {
	return address.startsWith("::ffff:") ? address.slice(7) : address;
}

const MONTHS = [
	"Jan",
	"Feb",
	"Mar",
	"Apr",
	"May",
	"Jun",
	"Jul",
	"Aug",
	"Sep",
	"Oct",
	"Nov",
	"Dec",
];

/** API Gateway's request time format: `04/Dec/2026:10:00:00 +0000`. */
function formatRequestTime(date: Date): string {
	const pad = (value: number) => String(value).padStart(2, "0");
	return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
