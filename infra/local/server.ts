/**
 * The local runtime's HTTP server: API Gateway (REST API, proxy integration,
 * response streaming) in front of the same handler modules that are
 * deployed. Each request becomes a payload 1.0 proxy event; streaming routes
 * go through the `awslambda` streaming emulation, buffered routes return
 * `{ statusCode, headers, body }`. It also serves the built portal from
 * `site/dist` and the portal's `/config.json`.
 *
 * It binds to 127.0.0.1 only, limits bodies to API Gateway's 10 MB, and
 * responds to every failure with an OpenAI-shaped JSON error, never a stack
 * trace.
 */
import "./lambda-runtime.ts";
import { existsSync } from "node:fs";
import {
	createServer,
	type IncomingMessage,
	type Server,
	type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyResult } from "aws-lambda";
import {
	GatewayError,
	notFound,
	payloadTooLarge,
} from "../../shared/errors.ts";
import { CELLS } from "../cells.ts";
import { buildProxyEvent } from "./api-gateway-event.ts";
import {
	createLambdaContext,
	invokeBuffered,
	invokeStreaming,
	isStreamingHandler,
	LambdaTimeoutError,
} from "./lambda-runtime.ts";
import {
	allowedMethods,
	matchRoute,
	ROUTES,
	type Route,
	type RouteMatch,
} from "./routes.ts";
import { serveStatic } from "./static-site.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** API Gateway's maximum request payload. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_PORT = 8787;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Time after closing connections for cut requests to settle, in ms. */
const SETTLE_GRACE_MS = 5_000;

export interface ServerOptions {
	/** Port on 127.0.0.1; default `PORT` or 8787, and 0 picks a free port. */
	port?: number;
	/** Route table; the deployed API's {@link ROUTES} by default. */
	routes?: readonly Route[];
	/** Directory that route handler paths are relative to; the repository root by default. */
	rootDir?: string;
	/** Built portal to serve at `/`; `site/dist` by default. */
	siteDir?: string;
	/** Stage name in `requestContext`; `local` by default. */
	stage?: string;
	/** Cell this runtime serves, for `/config.json`; `CELL_ID` or `global` by default. */
	cell?: string;
	maxBodyBytes?: number;
	logger?: Logger;
}

export interface LocalServer {
	/** Base URL, such as `http://127.0.0.1:8787`. */
	url: string;
	port: number;
	/**
	 * Stops accepting connections, lets in-flight requests finish for up to
	 * `timeoutMs` (10 s by default), then closes the remaining connections.
	 */
	stop(timeoutMs?: number): Promise<void>;
}

interface ServerState {
	routes: readonly Route[];
	rootDir: string;
	siteDir: string;
	stage: string;
	cell: string;
	maxBodyBytes: number;
	logger: Logger;
	url: string;
	handlers: Map<string, Promise<unknown>>;
	inFlight: Set<Promise<void>>;
	stopping: boolean;
}

/** Starts the server and resolves once it listens. */
export async function startServer(
	options: ServerOptions = {},
): Promise<LocalServer> {
	const state: ServerState = {
		routes: options.routes ?? ROUTES,
		rootDir: options.rootDir ?? REPO_ROOT,
		siteDir: options.siteDir ?? resolve(REPO_ROOT, "site/dist"),
		stage: options.stage ?? "local",
		cell: options.cell ?? process.env.CELL_ID ?? "global",
		maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
		logger: options.logger ?? new Logger({ serviceName: "gag-local" }),
		url: "",
		handlers: new Map(),
		inFlight: new Set(),
		stopping: false,
	};

	const server = createServer((request, response) => {
		const done = handleRequest(state, request, response)
			.catch((error: unknown) => {
				state.logger.error("Local request failed", {
					method: request.method,
					path: request.url,
					error: error as Error,
				});
				if (!response.headersSent) sendError(response, internalFailure());
				else response.destroy();
			})
			.finally(() => state.inFlight.delete(done));
		state.inFlight.add(done);
	});
	server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
		answerUnparsableRequest(error, socket);
	});

	const port = await listen(
		server,
		options.port ?? Number(process.env.PORT ?? DEFAULT_PORT),
	);
	state.url = `http://127.0.0.1:${port}`;
	return {
		url: state.url,
		port,
		stop: (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) =>
			stopServer(server, state, timeoutMs),
	};
}

function listen(server: Server, port: number): Promise<number> {
	return new Promise((resolveListen, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => {
			server.off("error", reject);
			resolveListen((server.address() as AddressInfo).port);
		});
	});
}

async function stopServer(
	server: Server,
	state: ServerState,
	timeoutMs: number,
): Promise<void> {
	state.stopping = true;
	const closed = new Promise<void>((resolveClose) =>
		server.close(() => resolveClose()),
	);
	server.closeIdleConnections();

	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<void>((resolveDeadline) => {
		timer = setTimeout(resolveDeadline, timeoutMs);
	});
	await Promise.race([Promise.allSettled([...state.inFlight]), deadline]);
	clearTimeout(timer);

	if (state.inFlight.size > 0) {
		state.logger.warn("Closing connections with requests still in flight", {
			inFlight: state.inFlight.size,
			timeoutMs,
		});
	}
	server.closeAllConnections();
	// Closing the connections ends the remaining streams; their handlers
	// still settle what was delivered, so give them a moment to finish.
	let graceTimer: NodeJS.Timeout | undefined;
	await Promise.race([
		Promise.allSettled([...state.inFlight]),
		new Promise<void>((resolveGrace) => {
			graceTimer = setTimeout(resolveGrace, SETTLE_GRACE_MS);
		}),
	]);
	clearTimeout(graceTimer);
	await closed;
}

async function handleRequest(
	state: ServerState,
	request: IncomingMessage,
	response: ServerResponse,
): Promise<void> {
	const started = Date.now();
	if (state.stopping) response.setHeader("connection", "close");
	response.once("finish", () => {
		state.logger.info("Local request", {
			method: request.method,
			path: request.url,
			status: response.statusCode,
			latencyMs: Date.now() - started,
		});
	});

	const method = request.method ?? "GET";
	const url = new URL(request.url ?? "/", state.url);
	const match = matchRoute(state.routes, method, url.pathname);

	if (match === "method" && method === "OPTIONS") {
		sendPreflight(request, response);
		return;
	}
	if (match === "method") {
		const allow = allowedMethods(state.routes, url.pathname).join(", ");
		sendError(
			response,
			new GatewayError(
				405,
				"invalid_request_error",
				"method_not_allowed",
				`Method ${method} is not allowed on ${url.pathname}. Use ${allow}.`,
			),
			{ allow },
		);
		return;
	}
	if (match === null) {
		await handleUnrouted(state, method, url, response);
		return;
	}

	const body = await readBody(request, response, state.maxBodyBytes);
	if (body === null) return;
	await invokeRoute(state, request, response, url, match, body);
}

async function handleUnrouted(
	state: ServerState,
	method: string,
	url: URL,
	response: ServerResponse,
): Promise<void> {
	const isRead = method === "GET" || method === "HEAD";
	if (isRead && url.pathname === "/config.json") {
		sendJson(response, 200, siteConfig(state));
		return;
	}
	if (isRead && !url.pathname.startsWith("/v1/")) {
		if (await serveStatic(state.siteDir, url.pathname, method, response)) {
			return;
		}
	}
	sendError(
		response,
		notFound(
			`Unknown route: ${method} ${url.pathname}. The API serves ${apiSummary(state.routes)}.`,
			"unknown_route",
		),
	);
}

function apiSummary(routes: readonly Route[]): string {
	return routes.map((route) => `${route.method} ${route.resource}`).join(", ");
}

/** Builds the portal's cell list; only this runtime's cell is reachable locally. */
function siteConfig(state: ServerState) {
	const cell = CELLS.find((candidate) => candidate.id === state.cell);
	return {
		cells: [
			{
				id: state.cell,
				name: cell?.name ?? state.cell,
				region: cell?.region ?? "local",
				apiUrl: state.url,
			},
		],
		defaultCell: state.cell,
		local: true,
	};
}

/**
 * Reads the body up to the limit. Sends 413 and returns null when the body
 * is larger, as API Gateway does.
 */
async function readBody(
	request: IncomingMessage,
	response: ServerResponse,
	maxBodyBytes: number,
): Promise<Buffer | null> {
	const tooLarge = () => {
		response.setHeader("connection", "close");
		sendError(
			response,
			payloadTooLarge(
				`The request body is larger than ${maxBodyBytes} bytes, the API Gateway limit. Send a smaller request.`,
			),
		);
		request.resume();
		return null;
	};

	const declared = Number(request.headers["content-length"] ?? 0);
	if (declared > maxBodyBytes) return tooLarge();

	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request) {
		size += (chunk as Buffer).length;
		if (size > maxBodyBytes) return tooLarge();
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

async function loadHandler(state: ServerState, route: Route): Promise<unknown> {
	const exportName = route.exportName ?? "handler";
	const key = `${route.handler}#${exportName}`;
	let loaded = state.handlers.get(key);
	if (!loaded) {
		const href = pathToFileURL(resolve(state.rootDir, route.handler)).href;
		loaded = import(href).then((module: Record<string, unknown>) => {
			if (typeof module[exportName] !== "function") {
				throw new Error(
					`${route.handler} does not export a function named ${exportName}.`,
				);
			}
			return module[exportName];
		});
		state.handlers.set(key, loaded);
	}
	return loaded;
}

async function invokeRoute(
	state: ServerState,
	request: IncomingMessage,
	response: ServerResponse,
	url: URL,
	match: RouteMatch,
	body: Buffer,
): Promise<void> {
	const handler = await loadHandler(state, match.route);
	const event = buildProxyEvent(request, url, match, body, {
		stage: state.stage,
		domainName: request.headers.host ?? new URL(state.url).host,
	});
	const context = createLambdaContext({
		functionName: functionNameFor(match.route),
		timeoutMs: match.route.timeoutMs,
	});
	response.setHeader("x-amzn-requestid", event.requestContext.requestId);

	try {
		if (isStreamingHandler(handler)) {
			await respondStreaming(handler, event, context, request, response);
		} else {
			const result = await invokeBuffered(handler, event, context);
			respondBuffered(request, response, result);
		}
	} catch (error) {
		handleInvokeError(state, response, match.route, error);
	}
}

function functionNameFor(route: Route): string {
	const folder = route.handler.split("/").at(-2) ?? "handler";
	const suffix = route.exportName ? `-${route.exportName}` : "";
	return `gag-local-${folder}${suffix}`;
}

async function respondStreaming(
	handler: unknown,
	event: unknown,
	context: ReturnType<typeof createLambdaContext>,
	request: IncomingMessage,
	response: ServerResponse,
): Promise<void> {
	const disconnect = new AbortController();
	response.once("close", () => {
		if (!response.writableFinished) disconnect.abort();
	});

	const result = await invokeStreaming(handler, event, context, {
		signal: disconnect.signal,
	});
	response.writeHead(result.statusCode, {
		...result.headers,
		...(result.cookies.length > 0 ? { "set-cookie": result.cookies } : {}),
	});
	response.flushHeaders();
	if (request.method === "HEAD") {
		result.body.resume();
		response.end();
	} else {
		// A handler failing mid-stream makes pipeline destroy the connection,
		// so the client sees a truncated response, as behind API Gateway.
		await pipeline(result.body, response).catch(() => {});
	}
	// The invocation lasts until the handler returns, as in Lambda, so a
	// request stays in flight while it settles after its client left.
	await result.completion;
}

function respondBuffered(
	request: IncomingMessage,
	response: ServerResponse,
	result: unknown,
): void {
	if (!isProxyResult(result)) {
		throw new MalformedResultError();
	}
	for (const [name, value] of Object.entries(result.headers ?? {})) {
		response.setHeader(name, String(value));
	}
	for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
		response.setHeader(name, values.map(String));
	}
	const body = result.isBase64Encoded
		? Buffer.from(result.body ?? "", "base64")
		: Buffer.from(result.body ?? "", "utf8");
	response.statusCode = result.statusCode;
	response.setHeader("content-length", body.length);
	response.end(request.method === "HEAD" ? undefined : body);
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
	if (!value || typeof value !== "object") return false;
	const result = value as Record<string, unknown>;
	return (
		Number.isInteger(result.statusCode) &&
		(result.body === undefined || typeof result.body === "string")
	);
}

class MalformedResultError extends Error {
	constructor() {
		super(
			"The handler returned a value that is not an API Gateway proxy result.",
		);
		this.name = "MalformedResultError";
	}
}

function handleInvokeError(
	state: ServerState,
	response: ServerResponse,
	route: Route,
	error: unknown,
): void {
	const disconnected = (error as { code?: string }).code === "ECONNRESET";
	if (disconnected) {
		state.logger.info("Client disconnected", { route: route.resource });
		return;
	}
	state.logger.error("Handler invocation failed", {
		route: route.resource,
		handler: route.handler,
		error: error as Error,
	});
	if (response.headersSent) {
		response.destroy();
		return;
	}
	if (error instanceof LambdaTimeoutError) {
		sendError(
			response,
			new GatewayError(
				504,
				"api_error",
				"timeout",
				`The request timed out after ${route.timeoutMs / 1000} s. Retry it, or lower max_tokens.`,
			),
		);
		return;
	}
	sendError(response, internalFailure());
}

function internalFailure(): GatewayError {
	return new GatewayError(
		502,
		"api_error",
		"internal_error",
		"The gateway failed to process the request. Retry it; if it keeps failing, contact support with the x-amzn-requestid header.",
	);
}

function sendPreflight(
	request: IncomingMessage,
	response: ServerResponse,
): void {
	response.writeHead(204, {
		"access-control-allow-origin": request.headers.origin ?? "*",
		"access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
		"access-control-allow-headers":
			request.headers["access-control-request-headers"] ??
			"authorization, content-type",
		"access-control-allow-credentials": "true",
		"access-control-max-age": "600",
		vary: "origin",
	});
	response.end();
}

function sendJson(
	response: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const text = JSON.stringify(body);
	response.writeHead(status, {
		"content-type": "application/json",
		"content-length": Buffer.byteLength(text),
		...headers,
	});
	response.end(text);
}

function sendError(
	response: ServerResponse,
	error: GatewayError,
	headers: Record<string, string> = {},
): void {
	sendJson(response, error.status, error.toJSON(), {
		...error.headers,
		...headers,
	});
}

/**
 * Responds to a request that Node's HTTP parser rejected (control bytes in a
 * header, headers over the size limit) with an OpenAI-shaped JSON error
 * instead of Node's empty response, then closes the connection.
 */
function answerUnparsableRequest(
	error: NodeJS.ErrnoException,
	socket: import("node:stream").Duplex,
): void {
	if (!socket.writable) {
		socket.destroy();
		return;
	}
	const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
	const status = tooLarge ? 431 : 400;
	const body = JSON.stringify({
		error: {
			message: tooLarge
				? "Request headers are too large. Send smaller headers."
				: "Invalid HTTP request: a header contains characters HTTP does not allow, such as control bytes. Check the Authorization header.",
			type: "invalid_request_error",
			param: null,
			code: tooLarge ? "headers_too_large" : "invalid_http_request",
		},
	});
	socket.end(
		`HTTP/1.1 ${status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
			"content-type: application/json\r\n" +
			`content-length: ${Buffer.byteLength(body)}\r\n` +
			"connection: close\r\n\r\n" +
			body,
	);
}

/** Whether the built portal exists (the server serves it at `/` when it does). */
export function siteBuilt(siteDir = resolve(REPO_ROOT, "site/dist")): boolean {
	return existsSync(resolve(siteDir, "index.html"));
}
