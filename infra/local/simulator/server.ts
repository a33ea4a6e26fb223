/**
 * Provider simulator: one HTTP server on loopback that speaks three provider
 * wire formats with deterministic output (see `completion.ts` for the text,
 * tool-call and token-count rules).
 *
 * URL scheme. Every provider route may carry a provider id prefix
 * `/p/<providerId>`; without it the provider id is `default`. Faults,
 * behaviour and the request log are kept per provider id, so one simulator
 * serves every provider of a catalog.
 *
 * | route | format |
 * | --- | --- |
 * | `POST [/p/<id>]/openai/v1/chat/completions` | OpenAI Chat Completions, buffered or SSE |
 * | `GET  [/p/<id>]/openai/v1/models` | OpenAI model list |
 * | `POST [/p/<id>]/anthropic/v1/messages` | Anthropic Messages, buffered or SSE |
 * | `POST [/p/<id>]/bedrock/model/<modelId>/converse` | Bedrock Converse |
 * | `POST [/p/<id>]/bedrock/model/<modelId>/converse-stream` | Bedrock ConverseStream (event stream) |
 * | `POST [/p/<id>]/model/<modelId>/converse[-stream]` | the same, at the SDK's root path |
 *
 * An SDK therefore takes base URLs such as `<url>/p/sim-us/openai/v1`,
 * `<url>/p/sim-eu/anthropic` or (Bedrock endpoint) `<url>/p/sim-br/bedrock`.
 *
 * Control routes, for tests:
 * - `POST /__control/faults` `{ provider, fault }` sets the provider's fault
 *   (see {@link Fault}); `DELETE /__control/faults[?provider=]` clears.
 * - `POST /__control/behaviour` `{ provider?, behaviour }` sets a provider's
 *   behaviour, or the global one without `provider`;
 *   `DELETE /__control/behaviour[?provider=]` clears provider behaviours.
 * - `GET /__control/requests[?provider=]` returns `{ requests }`, the log of
 *   requests received; `DELETE /__control/requests` empties it.
 *
 * Behaviour precedence, lowest first: global, provider, request headers
 * (`x-sim-tokens`, `x-sim-cached`, `x-sim-reasoning`, `x-sim-ttft`,
 * `x-sim-tps`), then `[sim tokens=500 cached=all ...]` directives in the last
 * message.
 */
import {
	createServer,
	type IncomingMessage,
	type ServerResponse,
} from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import {
	type AddressInfo,
	createServer as createNetServer,
	type Server as NetServer,
	type Socket,
} from "node:net";
import {
	anthropicError,
	anthropicFrames,
	anthropicMessage,
	anthropicStreamError,
	parseAnthropicRequest,
} from "./anthropic.ts";
import {
	bedrockConverse,
	bedrockErrorType,
	bedrockFrames,
	bedrockStreamError,
	parseBedrockRequest,
} from "./bedrock.ts";
import {
	applyBehaviourSetting,
	type Behaviour,
	type CompletionPlan,
	parseDirectives,
	planCompletion,
	type SimulatedRequest,
	SimulatedRequestError,
} from "./completion.ts";
import {
	type Fault,
	type LoggedRequest,
	parseBehaviour,
	parseFault,
	SimulatorState,
	type WireFormat,
} from "./control.ts";
import {
	breakConnection,
	bufferedLatencyMs,
	clientGone,
	type Frame,
	readJsonBody,
	sendJson,
	sleep,
	writeFrames,
} from "./http.ts";
import {
	openAICompletion,
	openAIError,
	openAIFrames,
	openAIStreamError,
	parseOpenAIRequest,
} from "./openai.ts";

export type { Behaviour } from "./completion.ts";
export type { Fault, LoggedRequest } from "./control.ts";

export interface SimulatorOptions {
	/** Port to listen on; 0 or absent picks a free port. */
	port?: number;
	/** Loopback address to bind; only 127.0.0.1 (or ::1) is accepted. */
	host?: string;
	/** Global delay before the first token, in ms. */
	firstTokenLatencyMs?: number;
	/** Global token pace; 0 or absent sends tokens without delay. */
	tokensPerSecond?: number;
	/** Model ids listed by `GET /openai/v1/models`; any model id is accepted. */
	models?: string[];
}

export interface Simulator {
	/** Base URL, such as `http://127.0.0.1:4010`. */
	url: string;
	port: number;
	stop(): Promise<void>;
	setFault(provider: string, fault: Fault): void;
	clearFaults(provider?: string): void;
	setBehaviour(provider: string, behaviour: Behaviour): void;
	clearBehaviour(provider?: string): void;
	requests(provider?: string): LoggedRequest[];
	clearRequests(): void;
}

const DEFAULT_PROVIDER = "default";
const DEFAULT_MODELS = ["sim-echo-small", "sim-echo-large"];
const BEHAVIOUR_HEADERS = ["tokens", "cached", "reasoning", "ttft", "tps"];

interface ProviderRoute {
	provider: string;
	format: WireFormat;
	action: "complete" | "models";
	/** Bedrock carries the model in the path and streams by route. */
	pathModel?: string;
	pathStream?: boolean;
}

/**
 * Starts the simulator on loopback.
 *
 * @example
 * const simulator = await startSimulator({ firstTokenLatencyMs: 50 });
 * const client = new OpenAI({ baseURL: `${simulator.url}/p/sim-us/openai/v1`, apiKey: "sk-test" });
 */
export async function startSimulator(
	options: SimulatorOptions = {},
): Promise<Simulator> {
	const host = options.host ?? "127.0.0.1";
	if (host !== "127.0.0.1" && host !== "::1") {
		throw new Error(
			`The simulator binds to loopback only; host "${host}" is not 127.0.0.1 or ::1.`,
		);
	}
	const state = new SimulatorState({
		firstTokenLatencyMs: options.firstTokenLatencyMs,
		tokensPerSecond: options.tokensPerSecond,
	});
	const context: HandlerContext = {
		state,
		models: options.models ?? DEFAULT_MODELS,
		sequence: 0,
	};

	const handler = (request: IncomingMessage, response: ServerResponse) => {
		handle(context, request, response).catch((error: unknown) => {
			if (!response.headersSent) {
				sendJson(response, 500, openAIError(500, "The simulator failed."));
			} else {
				response.destroy();
			}
			console.error("simulator: request failed", error);
		});
	};
	const server = listenHttp1AndHttp2(handler);
	const sockets = new Set<Socket>();
	server.on("connection", (socket: Socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
	});

	const port = await listen(server, options.port ?? 0, host);
	const urlHost = host === "::1" ? "[::1]" : host;
	return {
		url: `http://${urlHost}:${port}`,
		port,
		stop: () => closeServer(server, sockets),
		setFault: (provider, fault) => state.setFault(provider, parseFault(fault)),
		clearFaults: (provider) => state.clearFaults(provider),
		setBehaviour: (provider, behaviour) =>
			state.setBehaviour(provider, parseBehaviour(behaviour)),
		clearBehaviour: (provider) => state.clearBehaviour(provider),
		requests: (provider) => state.requests(provider),
		clearRequests: () => state.clearRequests(),
	};
}

/**
 * Serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port: the
 * AWS SDK's Bedrock Runtime client talks HTTP/2, while most clients use
 * HTTP/1.1. The first bytes of a connection pick the protocol, because an
 * HTTP/2 connection opens with the preface `PRI * HTTP/2.0`.
 */
function listenHttp1AndHttp2(
	handler: (request: IncomingMessage, response: ServerResponse) => void,
): NetServer {
	const http1 = createServer(handler);
	// The HTTP/2 compatibility API offers the request and response members
	// the simulator uses (url, headers, writeHead, write, end, 'close').
	const http2 = createHttp2Server(
		handler as unknown as Parameters<typeof createHttp2Server>[1],
	);
	// A net server leaves Nagle's algorithm on, unlike an http server, and a
	// streamed answer's first frame would then wait for the client's delayed ACK.
	return createNetServer({ noDelay: true }, (socket) => {
		socket.once("data", (chunk: Buffer) => {
			socket.pause();
			socket.unshift(chunk);
			const isHttp2 = chunk.subarray(0, 3).toString("latin1") === "PRI";
			(isHttp2 ? http2 : http1).emit("connection", socket);
			process.nextTick(() => socket.resume());
		});
	});
}

function listen(
	server: NetServer,
	port: number,
	host: string,
): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => {
			server.off("error", reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

function closeServer(server: NetServer, sockets: Set<Socket>): Promise<void> {
	return new Promise((resolve) => {
		server.close(() => resolve());
		for (const socket of sockets) socket.destroy();
	});
}

interface HandlerContext {
	state: SimulatorState;
	models: string[];
	sequence: number;
}

async function handle(
	context: HandlerContext,
	request: IncomingMessage,
	response: ServerResponse,
): Promise<void> {
	const url = new URL(request.url ?? "/", "http://simulator.local");
	if (url.pathname.startsWith("/__control/")) {
		await handleControl(context.state, request, response, url);
		return;
	}

	const route = matchRoute(request.method ?? "GET", url.pathname);
	if (!route) {
		sendJson(
			response,
			404,
			openAIError(
				404,
				`No simulator route for ${request.method} ${url.pathname}. See the URL scheme in infra/local/simulator/server.ts.`,
			),
		);
		return;
	}
	if (route.action === "models") {
		sendJson(response, 200, {
			object: "list",
			data: context.models.map((id) => ({
				id,
				object: "model",
				created: 1_700_000_000,
				owned_by: "simulator",
			})),
		});
		return;
	}
	await handleCompletion(context, route, request, response);
}

function matchRoute(method: string, pathname: string): ProviderRoute | null {
	let provider = DEFAULT_PROVIDER;
	let rest = pathname;
	const prefixed = /^\/p\/([^/]+)(\/.*)$/.exec(pathname);
	if (prefixed) {
		provider = decodeURIComponent(prefixed[1] ?? "");
		rest = prefixed[2] ?? "/";
	}

	if (method === "POST" && rest === "/openai/v1/chat/completions") {
		return { provider, format: "openai", action: "complete" };
	}
	if (method === "GET" && rest === "/openai/v1/models") {
		return { provider, format: "openai", action: "models" };
	}
	if (method === "POST" && rest === "/anthropic/v1/messages") {
		return { provider, format: "anthropic", action: "complete" };
	}
	const bedrock =
		/^(?:\/bedrock)?\/model\/([^/]+)\/(converse|converse-stream)$/.exec(rest);
	if (method === "POST" && bedrock) {
		return {
			provider,
			format: "bedrock",
			action: "complete",
			pathModel: decodeURIComponent(bedrock[1] ?? ""),
			pathStream: bedrock[2] === "converse-stream",
		};
	}
	return null;
}

async function handleCompletion(
	context: HandlerContext,
	route: ProviderRoute,
	request: IncomingMessage,
	response: ServerResponse,
): Promise<void> {
	let body: unknown;
	try {
		body = await readJsonBody(request);
	} catch (error) {
		sendFormatError(response, route.format, 400, (error as Error).message);
		return;
	}

	const raw = (body ?? {}) as Record<string, unknown>;
	const model =
		route.pathModel ?? (typeof raw.model === "string" ? raw.model : null);
	const stream = route.pathStream ?? raw.stream === true;
	const fault = context.state.takeFault(route.provider, model);
	context.state.record({
		provider: route.provider,
		format: route.format,
		path: request.url ?? "/",
		model,
		stream,
		maxTokens: requestedMaxTokens(route.format, raw),
		time: new Date().toISOString(),
		hasCredentials: Boolean(
			request.headers.authorization ?? request.headers["x-api-key"],
		),
		fault,
	});

	if (fault && (await applyFault(fault, stream, route.format, response))) {
		return;
	}

	const behaviour = {
		...context.state.behaviourFor(route.provider),
		...headerBehaviour(request),
	};
	context.sequence += 1;
	try {
		await respond(context.sequence, route, raw, model ?? "", behaviour, {
			response,
			fault,
		});
	} catch (error) {
		if (!(error instanceof SimulatedRequestError)) throw error;
		sendFormatError(response, route.format, 400, error.message, error.param);
	}
}

function requestedMaxTokens(
	format: WireFormat,
	raw: Record<string, unknown>,
): number | null {
	const value =
		format === "bedrock"
			? ((raw.inferenceConfig ?? {}) as Record<string, unknown>).maxTokens
			: (raw.max_completion_tokens ?? raw.max_tokens);
	return typeof value === "number" ? value : null;
}

function headerBehaviour(request: IncomingMessage): Behaviour {
	const behaviour: Behaviour = {};
	for (const key of BEHAVIOUR_HEADERS) {
		const value = request.headers[`x-sim-${key}`];
		if (typeof value === "string") applyBehaviourSetting(behaviour, key, value);
	}
	return behaviour;
}

/**
 * Applies the parts of a fault that replace the answer. Returns true when
 * the request has been dealt with.
 */
async function applyFault(
	fault: Fault,
	stream: boolean,
	format: WireFormat,
	response: ServerResponse,
): Promise<boolean> {
	if (fault.timeoutMs !== undefined) {
		await sleep(fault.timeoutMs, clientGone(response));
		if (fault.status === undefined) {
			breakConnection(response);
			return true;
		}
	}
	if (fault.status !== undefined) {
		const headers: Record<string, string> = {};
		if (fault.retryAfterSeconds !== undefined) {
			headers["retry-after"] = String(fault.retryAfterSeconds);
		}
		const message =
			fault.message ?? `Simulated provider error with status ${fault.status}.`;
		sendFormatError(response, format, fault.status, message, null, headers);
		return true;
	}
	if (
		fault.resetAfterChunks !== undefined &&
		(!stream || fault.resetAfterChunks === 0)
	) {
		breakConnection(response);
		return true;
	}
	if (fault.streamErrorAfterChunks !== undefined && !stream) {
		const message = fault.message ?? "The simulated provider failed.";
		sendFormatError(response, format, 500, message);
		return true;
	}
	return false;
}

interface Output {
	response: ServerResponse;
	fault: Fault | null;
}

async function respond(
	sequence: number,
	route: ProviderRoute,
	raw: Record<string, unknown>,
	model: string,
	baseBehaviour: Behaviour,
	output: Output,
): Promise<void> {
	const id = String(sequence).padStart(8, "0");
	const created = Math.floor(Date.now() / 1000);

	if (route.format === "openai") {
		const parsed = parseOpenAIRequest(raw);
		const { plan, behaviour } = planWithDirectives(parsed, baseBehaviour);
		const meta = { id: `chatcmpl-sim${id}`, created, model: parsed.model };
		const headers = { "x-request-id": `req_sim${id}` };
		if (parsed.stream) {
			await streamFrames(
				output,
				behaviour,
				openAIFrames(plan, meta, parsed.includeUsage),
				{
					"content-type": "text/event-stream; charset=utf-8",
					...headers,
				},
				openAIStreamError,
			);
		} else {
			await bufferedDelay(output, behaviour, plan);
			sendJson(output.response, 200, openAICompletion(plan, meta), headers);
		}
		return;
	}

	if (route.format === "anthropic") {
		const parsed = parseAnthropicRequest(raw);
		const { plan, behaviour } = planWithDirectives(
			{ ...parsed, choiceCount: 1, responseFormat: { type: "text" } },
			baseBehaviour,
		);
		const messageId = `msg_sim${id}`;
		const headers = { "request-id": `req_sim${id}` };
		if (parsed.stream) {
			await streamFrames(
				output,
				behaviour,
				anthropicFrames(plan, messageId, parsed.model),
				{
					"content-type": "text/event-stream; charset=utf-8",
					...headers,
				},
				anthropicStreamError,
			);
		} else {
			await bufferedDelay(output, behaviour, plan);
			sendJson(
				output.response,
				200,
				anthropicMessage(plan, messageId, parsed.model),
				headers,
			);
		}
		return;
	}

	const parsed = parseBedrockRequest(raw);
	const { plan, behaviour } = planWithDirectives(
		{ ...parsed, model, choiceCount: 1, responseFormat: { type: "text" } },
		baseBehaviour,
	);
	const latencyMs = bufferedLatencyMs(behaviour, 1);
	const headers = { "x-amzn-requestid": `sim-${id}` };
	if (route.pathStream) {
		await streamFrames(
			output,
			behaviour,
			bedrockFrames(plan, latencyMs),
			{
				"content-type": "application/vnd.amazon.eventstream",
				...headers,
			},
			bedrockStreamError,
		);
	} else {
		await bufferedDelay(output, behaviour, plan);
		sendJson(output.response, 200, bedrockConverse(plan, latencyMs), headers);
	}
}

/** Plans the completion with the message directives applied. */
function planWithDirectives(
	request: Omit<SimulatedRequest, "behaviour">,
	baseBehaviour: Behaviour,
): { plan: CompletionPlan; behaviour: Behaviour } {
	const last = request.messages.at(-1)?.text ?? "";
	const behaviour = { ...baseBehaviour, ...parseDirectives(last) };
	return { plan: planCompletion({ ...request, behaviour }), behaviour };
}

async function bufferedDelay(
	output: Output,
	behaviour: Behaviour,
	plan: CompletionPlan,
): Promise<void> {
	const tokens = Math.max(
		...plan.choices.map((choice) => choice.pieces.length),
	);
	await sleep(
		bufferedLatencyMs(behaviour, tokens),
		clientGone(output.response),
	);
}

function streamFrames(
	output: Output,
	behaviour: Behaviour,
	frames: Frame[],
	headers: Record<string, string>,
	errorFrame: (message: string) => string | Uint8Array,
): Promise<void> {
	return writeFrames(output.response, frames, {
		headers: { "cache-control": "no-cache", ...headers },
		behaviour,
		fault: output.fault,
		errorFrame,
	});
}

function sendFormatError(
	response: ServerResponse,
	format: WireFormat,
	status: number,
	message: string,
	param: string | null = null,
	headers: Record<string, string> = {},
): void {
	if (format === "anthropic") {
		sendJson(response, status, anthropicError(status, message), headers);
	} else if (format === "bedrock") {
		sendJson(
			response,
			status,
			{ message },
			{
				"x-amzn-errortype": bedrockErrorType(status),
				...headers,
			},
		);
	} else {
		sendJson(response, status, openAIError(status, message, param), headers);
	}
}

async function handleControl(
	state: SimulatorState,
	request: IncomingMessage,
	response: ServerResponse,
	url: URL,
): Promise<void> {
	const provider = url.searchParams.get("provider") ?? undefined;
	const key = `${request.method} ${url.pathname}`;
	try {
		switch (key) {
			case "POST /__control/faults": {
				const body = (await readJsonBody(request)) as Record<string, unknown>;
				const target = requireProvider(body.provider);
				state.setFault(target, parseFault(body.fault));
				sendJson(response, 200, { provider: target, fault: body.fault });
				return;
			}
			case "DELETE /__control/faults":
				state.clearFaults(provider);
				sendJson(response, 200, { cleared: provider ?? "all" });
				return;
			case "POST /__control/behaviour": {
				const body = (await readJsonBody(request)) as Record<string, unknown>;
				const behaviour = parseBehaviour(body.behaviour);
				if (body.provider === undefined) {
					Object.assign(state.globalBehaviour, behaviour);
				} else {
					state.setBehaviour(requireProvider(body.provider), behaviour);
				}
				sendJson(response, 200, { provider: body.provider ?? null, behaviour });
				return;
			}
			case "DELETE /__control/behaviour":
				state.clearBehaviour(provider);
				sendJson(response, 200, { cleared: provider ?? "all" });
				return;
			case "GET /__control/requests":
				sendJson(response, 200, { requests: state.requests(provider) });
				return;
			case "DELETE /__control/requests":
				state.clearRequests();
				sendJson(response, 200, { cleared: "all" });
				return;
			default:
				sendJson(
					response,
					404,
					openAIError(404, `No control route for ${key}.`),
				);
		}
	} catch (error) {
		sendJson(response, 400, openAIError(400, (error as Error).message));
	}
}

function requireProvider(value: unknown): string {
	if (typeof value !== "string" || value.length === 0) {
		throw new Error(
			'provider is required: the provider id from the URL, such as "sim-us".',
		);
	}
	return value;
}
