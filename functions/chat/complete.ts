/**
 * The chat completions request path: authenticate, validate, route,
 * reserve, call with fallback, stream, settle. See functions/store/metering.ts
 * for the reserve and settle timeline.
 */
import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { getCell } from "../../infra/cells.ts";
import type { CatalogRoute } from "../../shared/catalog.ts";
import {
	conflict,
	type GatewayError,
	insufficientCredit,
	invalidRequest,
	notFound,
	permissionDenied,
	rateLimited,
	toGatewayError,
	upstreamFailed,
} from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";
import {
	affordableOutputTokens,
	priceUsage,
	type TokenPrice,
	type TokenUsage,
	worstCaseChargeMicroUsd,
} from "../../shared/pricing.ts";
import {
	describeExclusions,
	planRoutes,
	type RoutePlan,
} from "../../shared/routing.ts";
import {
	type ChatCompletionRequest,
	chatCompletionRequestSchema,
	requestedMaxTokens,
} from "../../shared/schemas/chat.ts";
import {
	estimateDeliveredTokens,
	estimatePromptTokens,
} from "../../shared/tokens.ts";
import { type AuthenticatedKey, authenticate } from "../auth/authenticate.ts";
import { loadCatalog } from "../catalog/load.ts";
import { header, parseJsonBody } from "../http/event.ts";
import { errorSummary, loggerFor } from "../observability/logger.ts";
import {
	METRIC_NAMES,
	METRIC_NAMESPACE,
	SERVICE_NAMES,
} from "../observability/metric-names.ts";
import { readSellerOfRecord } from "../portal/seller.ts";
import { unhealthyProviders } from "../providers/health.ts";
import type { ProviderError, ProviderEvent } from "../providers/types.ts";
import type { Store } from "../store/client.ts";
import type { ReservationItem, UsageStatus } from "../store/items.ts";
import {
	type IdempotencyRecord,
	ReservationRefused,
	releaseReservation,
	reserveCredit,
	settleCharge,
} from "../store/metering.ts";
import {
	type AttemptRecord,
	nextEvent,
	type OpenedStream,
	openFirstAvailable,
} from "./attempts.ts";
import {
	CompletionAccumulator,
	type CompletionMeta,
	eventChunk,
	roleChunk,
	usageChunk,
	usageObject,
} from "./openai-format.ts";
import { EventStream, writeError, writeJson } from "./response.ts";

const log = loggerFor(SERVICE_NAMES.chat);
const metrics = new Metrics({
	namespace: METRIC_NAMESPACE,
	serviceName: SERVICE_NAMES.chat,
});

/** Output limit when the client sets none, before the route's own cap. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
/** Smallest output limit worth clamping to when credit is short. */
export const MIN_CLAMPED_OUTPUT_TOKENS = 16;
/** Time kept after the function's timeout before the reconciler may act. */
const RESERVATION_MARGIN_MS = 60_000;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ChatInvocation {
	store: Store;
	cellId: string;
	requestId: string;
	/** Milliseconds the function may still run. */
	remainingTimeMs: () => number;
	/** The function's timeout, which bounds a reservation's life. */
	functionTimeoutMs: number;
}

interface RequestState {
	invocation: ChatInvocation;
	started: number;
	auth?: AuthenticatedKey;
	request?: ChatCompletionRequest;
	plan?: RoutePlan;
	attempts: AttemptRecord[];
	headers: Record<string, string>;
}

/** Highest price of each kind among the candidates, for the worst case. */
function highestPrice(candidates: readonly CatalogRoute[]): TokenPrice {
	const max = (pick: (price: TokenPrice) => number) =>
		Math.max(...candidates.map((route) => pick(route.price as TokenPrice)));
	return {
		inputMicroUsdPerMillionTokens: max((p) => p.inputMicroUsdPerMillionTokens),
		cachedInputMicroUsdPerMillionTokens: max(
			(p) => p.cachedInputMicroUsdPerMillionTokens,
		),
		outputMicroUsdPerMillionTokens: max(
			(p) => p.outputMicroUsdPerMillionTokens,
		),
	};
}

function validate(body: Record<string, unknown>): ChatCompletionRequest {
	const result = chatCompletionRequestSchema.safeParse(body);
	if (result.success) return result.data;
	const issue = result.error.issues[0];
	const param = issue?.path.join(".") || null;
	throw invalidRequest(
		`Invalid request: ${param ? `${param}: ` : ""}${issue?.message ?? "the body does not match the chat completions schema"}. See the OpenAI chat completions reference for the expected shape.`,
		param,
	);
}

/** Orders healthy candidates first; providers cooling down are tried last. */
function preferHealthy(candidates: CatalogRoute[]): CatalogRoute[] {
	const cooling = unhealthyProviders();
	if (cooling.size === 0) return candidates;
	return [
		...candidates.filter((route) => !cooling.has(route.providerId)),
		...candidates.filter((route) => cooling.has(route.providerId)),
	];
}

function planOrThrow(
	state: RequestState,
	catalog: CatalogRoute[],
): CatalogRoute[] {
	const { auth, request } = state as Required<
		Pick<RequestState, "auth" | "request">
	>;
	const cell = getCell(state.invocation.cellId);
	const plan = planRoutes({
		model: request.model,
		policy: auth.workspace.policy,
		cell,
		key: { allowedModels: auth.key.allowedModels, scopes: auth.key.scopes },
		catalog,
	});
	state.plan = plan;
	if (!plan.modelKnown) {
		throw notFound(
			`The model "${request.model}" does not exist in this cell. GET /v1/models lists the models this key may use.`,
			"model_not_found",
			"model",
		);
	}
	if (plan.candidates.length > 0) return preferHealthy(plan.candidates);
	const reasons = new Set(plan.excluded.flatMap((entry) => entry.reasons));
	if (reasons.size === 1 && reasons.has("workload_not_chat")) {
		throw invalidRequest(
			`The model "${request.model}" is not a chat model; chat completions serve text and coding models.`,
			"model",
			"model_not_supported",
		);
	}
	if (
		plan.excluded.every((entry) =>
			entry.reasons.includes("model_not_allowed_for_key"),
		)
	) {
		throw permissionDenied(
			`API key ${auth.key.keyId} may not use the model "${request.model}". Its allowed models are: ${(auth.key.allowedModels ?? []).join(", ")}.`,
			"model_not_allowed",
			"model",
		);
	}
	throw permissionDenied(
		`No compliant route serves "${request.model}" for this workspace in cell ${cell.id}: ${describeExclusions(plan.excluded)}. Change the workspace policy or pick another model.`,
		"no_compliant_route",
		"model",
	);
}

function idempotencyOf(
	event: APIGatewayProxyEvent,
): { key: string; bodyHash: string } | undefined {
	const key = header(event, "idempotency-key");
	if (key === undefined) return undefined;
	if (
		key.length === 0 ||
		key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
		!/^[\x21-\x7e]+$/.test(key)
	) {
		throw invalidRequest(
			`Invalid Idempotency-Key header: use 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces, such as a UUID.`,
			"Idempotency-Key",
		);
	}
	const bodyHash = createHash("sha256")
		.update(event.body ?? "")
		.digest("hex");
	return { key, bodyHash };
}

interface Reserved {
	reservation: ReservationItem;
	maxOutputTokens: number;
}

async function reserve(
	state: RequestState,
	candidates: CatalogRoute[],
	idempotency: { key: string; bodyHash: string } | undefined,
): Promise<Reserved | { replay: IdempotencyRecord }> {
	const { auth, request, invocation } = state as Required<
		Pick<RequestState, "auth" | "request">
	> &
		RequestState;
	const price = highestPrice(candidates);
	const promptTokens = estimatePromptTokens(request);
	const requested = requestedMaxTokens(request);
	const routeCap = Math.max(
		...candidates.map((route) => route.maxOutputTokens),
	);
	let maxOutputTokens = Math.min(
		requested ?? DEFAULT_MAX_OUTPUT_TOKENS,
		routeCap,
	);
	const choices = request.n ?? 1;
	const keyHasBudget = auth.key.budgetMicroUsd !== undefined;
	const expiresAt = new Date(
		Date.now() + invocation.functionTimeoutMs + RESERVATION_MARGIN_MS,
	);

	for (let round = 0; round < 2; round++) {
		const worstCase = worstCaseChargeMicroUsd(
			promptTokens,
			maxOutputTokens * choices,
			price,
		);
		try {
			const reservation = await reserveCredit(invocation.store, {
				requestId: invocation.requestId,
				workspaceId: auth.key.workspaceId,
				keyId: auth.key.keyId,
				keyHash: auth.key.keyHash,
				keyHasBudget,
				model: request.model,
				amountMicroUsd: worstCase,
				expiresAt,
				...(idempotency ? { idempotency } : {}),
				...(auth.key.rateLimit
					? {
							rateLimit: {
								...auth.key.rateLimit,
								tokens: promptTokens + maxOutputTokens * choices,
							},
						}
					: {}),
			});
			return { reservation, maxOutputTokens };
		} catch (error) {
			if (!(error instanceof ReservationRefused)) throw error;
			const { failure } = error;
			if (failure.reason === "idempotency") {
				const record = failure.record;
				if (record && record.bodyHash !== idempotency?.bodyHash) {
					throw conflict(
						"This Idempotency-Key was already used with a different request body. Use a new key for a new request.",
						"idempotency_key_reused",
					);
				}
				if (record?.status === "completed" && record.response)
					return { replay: record };
				throw conflict(
					"A request with this Idempotency-Key is still in progress. Retry after it finishes.",
					"idempotency_request_in_progress",
				);
			}
			if (failure.reason === "rate_limit") {
				const unit = failure.limit === "requests" ? "requests" : "tokens";
				throw rateLimited(
					`API key ${auth.key.keyId} reached its limit of ${failure.limitValue} ${unit} per minute. Retry after ${failure.retryAfterSeconds} s or ask for a higher limit.`,
					failure.retryAfterSeconds,
					"rate_limit_exceeded",
					{
						[`x-ratelimit-limit-${unit}`]: String(failure.limitValue),
						[`x-ratelimit-remaining-${unit}`]: "0",
						[`x-ratelimit-reset-${unit}`]: `${failure.retryAfterSeconds}s`,
					},
				);
			}
			if (failure.reason === "duplicate_request") {
				throw conflict(
					"This request id is already in use. Retry the request.",
					"duplicate_request",
				);
			}
			const room =
				failure.reason === "balance"
					? failure.availableMicroUsd
					: failure.budgetRemainingMicroUsd;
			const affordable = Math.floor(
				affordableOutputTokens(promptTokens, room, price) / choices,
			);
			if (
				round === 0 &&
				requested === undefined &&
				affordable >= MIN_CLAMPED_OUTPUT_TOKENS
			) {
				maxOutputTokens = Math.min(affordable, maxOutputTokens);
				continue;
			}
			if (failure.reason === "balance") {
				throw insufficientCredit(
					`Insufficient credit: this request may cost up to ${formatUsd(worstCase)} and the workspace has ${formatUsd(room)} available. Top up or lower max_tokens.`,
				);
			}
			throw insufficientCredit(
				`API key ${auth.key.keyId} has ${formatUsd(room)} of its ${formatUsd(auth.key.budgetMicroUsd ?? 0)} budget left and this request may cost up to ${formatUsd(worstCase)}. Raise the key's budget or lower max_tokens.`,
				"key_budget_exceeded",
			);
		}
	}
	throw new Error("unreachable: the reservation loop always returns or throws");
}

function failureToGatewayError(error: ProviderError | undefined): GatewayError {
	if (!error)
		return upstreamFailed(
			503,
			"No provider could be reached. Retry later.",
			"no_provider_available",
		);
	switch (error.kind) {
		case "client_error":
			return invalidRequest(
				`The provider rejected the request: ${error.message}`,
				null,
				"provider_rejected_request",
			);
		case "rate_limited":
			return rateLimited(
				"Every compliant provider is rate limiting this model. Retry after the time in the Retry-After header.",
				error.retryAfterSeconds ?? 1,
				"provider_rate_limited",
			);
		case "timeout":
			return upstreamFailed(
				504,
				"Every compliant provider timed out. Retry, or lower max_tokens.",
				"provider_timeout",
			);
		case "auth":
			return upstreamFailed(
				502,
				"The gateway's provider credentials were rejected. The operator has been alerted; retry later.",
				"provider_auth_failed",
			);
		default:
			return upstreamFailed(
				error.status === 503 ? 503 : 502,
				"Every compliant provider failed to answer. Retry later.",
				"provider_unavailable",
			);
	}
}

function auditDetails(state: RequestState, outcome: Record<string, unknown>) {
	const plan = state.plan;
	return {
		action: "chat.request",
		actor: state.auth?.key.keyId ?? "anonymous",
		details: {
			requestId: state.invocation.requestId,
			model: state.request?.model,
			stream: state.request?.stream === true,
			candidates: plan?.candidates.map((route) => route.id) ?? [],
			excluded: plan?.excluded ?? [],
			attempts: state.attempts,
			...outcome,
		},
	};
}

async function writeStandaloneAudit(
	state: RequestState,
	error: GatewayError,
): Promise<void> {
	if (!state.auth) return;
	const { PutCommand } = await import("@aws-sdk/lib-dynamodb");
	const { keys } = await import("../../shared/table.ts");
	const workspaceId = state.auth.key.workspaceId;
	const requestId = state.invocation.requestId;
	await state.invocation.store.doc.send(
		new PutCommand({
			TableName: state.invocation.store.tableName,
			Item: {
				...keys.auditEvent(workspaceId, requestId),
				entity: "auditEvent",
				eventId: requestId,
				workspaceId,
				createdAt: new Date().toISOString(),
				...auditDetails(state, {
					finalRoute: null,
					status: error.status,
					errorCode: error.code,
				}),
			},
		}),
	);
}

function finalUsage(
	accumulator: CompletionAccumulator,
	promptEstimate: number,
): { usage: TokenUsage; estimated: boolean } {
	if (accumulator.usage) return { usage: accumulator.usage, estimated: false };
	return {
		usage: {
			promptTokens: promptEstimate,
			cachedPromptTokens: 0,
			completionTokens: estimateDeliveredTokens(
				accumulator.deliveredText(),
				accumulator.deltaCount,
			),
			reasoningTokens: 0,
		},
		estimated: true,
	};
}

/**
 * Serves one chat completions request into the Lambda response stream.
 * Never throws: every failure becomes an OpenAI-shaped error response or,
 * once streaming began, an SSE error event.
 */
export async function serveChat(
	event: APIGatewayProxyEvent,
	responseStream: Writable,
	invocation: ChatInvocation,
): Promise<void> {
	const state: RequestState = {
		invocation,
		started: Date.now(),
		attempts: [],
		headers: { "x-request-id": invocation.requestId },
	};
	let reserved: Reserved | undefined;
	let idempotencyKey: string | undefined;
	try {
		const body = parseJsonBody(event);
		state.auth = await authenticate(
			invocation.store,
			header(event, "authorization"),
			{
				cellId: invocation.cellId,
				scope: "chat.completions",
			},
		);
		state.request = validate(body);
		const catalog = await loadCatalog(invocation.store, invocation.cellId);
		const candidates = planOrThrow(state, catalog);
		const idempotency = idempotencyOf(event);
		idempotencyKey = idempotency?.key;
		const outcome = await reserve(state, candidates, idempotency);
		if ("replay" in outcome) {
			await replay(responseStream, state, outcome.replay);
			return;
		}
		reserved = outcome;
		await callAndSettle(
			responseStream,
			state,
			candidates,
			reserved,
			idempotencyKey,
		);
	} catch (error) {
		const gatewayError = toGatewayError(error);
		if (gatewayError.status >= 500 && gatewayError.code === "internal_error") {
			log.error("chat request failed", {
				requestId: invocation.requestId,
				...errorSummary(error),
			});
		}
		if (reserved) {
			await releaseReservation(invocation.store, {
				reservation: reserved.reservation,
				keyHash: (state.auth as AuthenticatedKey).key.keyHash,
				keyHasBudget: state.auth?.key.budgetMicroUsd !== undefined,
				audit: auditDetails(state, {
					finalRoute: null,
					status: gatewayError.status,
					errorCode: gatewayError.code,
				}),
				...(idempotencyKey ? { idempotencyKey } : {}),
			}).catch((releaseError) =>
				log.error(
					"reservation release failed; the reconciler will release it",
					{
						requestId: invocation.requestId,
						...errorSummary(releaseError),
					},
				),
			);
		} else {
			await writeStandaloneAudit(state, gatewayError).catch((auditError) =>
				log.warn("audit record write failed", {
					requestId: invocation.requestId,
					...errorSummary(auditError),
				}),
			);
		}
		writeError(responseStream, gatewayError, state.headers);
		logRequest(state, gatewayError.status, undefined, 0);
	}
}

async function replay(
	responseStream: Writable,
	state: RequestState,
	record: IdempotencyRecord,
): Promise<void> {
	const completion = JSON.parse(record.response as string) as {
		id: string;
		created: number;
		model: string;
		choices: {
			index: number;
			message: { content: string | null; tool_calls?: unknown[] };
			finish_reason: string;
		}[];
		usage: ReturnType<typeof usageObject>;
	};
	const headers = {
		...state.headers,
		"x-request-id": record.requestId,
		"idempotent-replayed": "true",
	};
	if (state.request?.stream !== true) {
		writeJson(responseStream, 200, completion, headers);
		return;
	}
	const meta: CompletionMeta = {
		id: completion.id,
		created: completion.created,
		model: completion.model,
	};
	const sse = new EventStream(responseStream, headers);
	await sse.send(roleChunk(meta, completion.choices.length));
	for (const choice of completion.choices) {
		const delta: ProviderEvent = {
			type: "delta",
			index: choice.index,
			...(choice.message.content ? { content: choice.message.content } : {}),
			...(choice.message.tool_calls
				? {
						toolCalls: (
							choice.message.tool_calls as {
								id: string;
								function: { name: string; arguments: string };
							}[]
						).map((call, index) => ({
							index,
							id: call.id,
							type: "function" as const,
							function: call.function,
						})),
					}
				: {}),
		};
		await sse.send(eventChunk(meta, delta) as string);
		await sse.send(
			eventChunk(meta, {
				type: "finish",
				index: choice.index,
				finishReason: choice.finish_reason,
			}) as string,
		);
	}
	if (state.request.stream_options?.include_usage)
		await sse.send(usageChunk(meta, completion.usage));
	await sse.send("[DONE]");
	await sse.end();
}

async function callAndSettle(
	responseStream: Writable,
	state: RequestState,
	candidates: CatalogRoute[],
	reserved: Reserved,
	idempotencyKey: string | undefined,
): Promise<void> {
	const request = state.request as ChatCompletionRequest;
	const auth = state.auth as AuthenticatedKey;
	const streaming = request.stream === true;
	const clientGone = new AbortController();
	const result = await openFirstAvailable(candidates, request, {
		maxOutputTokens: reserved.maxOutputTokens,
		readToEnd: !streaming,
		clientSignal: clientGone.signal,
	});
	state.attempts = result.attempts;
	if (!result.opened) throw failureToGatewayError(result.lastError);

	const opened = result.opened;
	const route = opened.route;
	state.headers["x-gateway-provider"] = route.providerId;
	const meta: CompletionMeta = {
		id: `chatcmpl-${state.invocation.requestId}`,
		created: Math.floor(state.started / 1000),
		model: request.model,
	};
	const accumulator = new CompletionAccumulator();
	const promptEstimate = estimatePromptTokens(request);
	let status: UsageStatus = "completed";
	let midStreamError: GatewayError | undefined;
	let sse: EventStream | undefined;

	if (streaming) {
		sse = new EventStream(responseStream, state.headers);
		sse.signal.addEventListener("abort", () => opened.abort.abort(), {
			once: true,
		});
		await sse.send(roleChunk(meta, request.n ?? 1));
		status = await pipeEvents(opened, sse, meta, accumulator, state);
		if (status === "provider_failed_mid_stream") {
			midStreamError = upstreamFailed(
				502,
				`Provider ${route.providerId} failed mid-stream; the tokens delivered so far are billed.`,
				"provider_failed_mid_stream",
			);
		}
	} else {
		for (const providerEvent of opened.buffered) accumulator.add(providerEvent);
	}

	const { usage } = finalUsage(accumulator, promptEstimate);
	const priced = priceUsage(
		usage,
		route.price as TokenPrice,
		route.cost as TokenPrice,
	);
	const completion = accumulator.toCompletion(
		meta,
		usageObject(usage, priced.chargeMicroUsd),
	);
	const settlement = await settleCharge(state.invocation.store, {
		reservation: reserved.reservation,
		keyHash: auth.key.keyHash,
		keyHasBudget: auth.key.budgetMicroUsd !== undefined,
		providerId: route.providerId,
		routeId: route.id,
		stream: streaming,
		status,
		...usage,
		chargeMicroUsd: priced.chargeMicroUsd,
		providerCostMicroUsd: priced.providerCostMicroUsd,
		latencyMs: Date.now() - state.started,
		attempts: state.attempts.length,
		sellerOfRecord: readSellerOfRecord().name,
		audit: auditDetails(state, {
			finalRoute: route.id,
			status: midStreamError ? midStreamError.status : 200,
			usageStatus: status,
		}),
		...(idempotencyKey && status === "completed"
			? { idempotencyKey, idempotentResponse: JSON.stringify(completion) }
			: {}),
	});
	const charged =
		settlement.usageEvent?.chargeMicroUsd ?? priced.chargeMicroUsd;
	if (!settlement.settled) {
		log.error("settlement found no open reservation", {
			requestId: state.invocation.requestId,
		});
	}
	const usageForClient = usageObject(usage, charged);

	if (sse) {
		if (midStreamError) {
			await sse.send(JSON.stringify(midStreamError.toJSON()));
		} else {
			if (request.stream_options?.include_usage)
				await sse.send(usageChunk(meta, usageForClient));
			await sse.send("[DONE]");
		}
		await sse.end();
	} else {
		writeJson(
			responseStream,
			200,
			{ ...completion, usage: usageForClient },
			state.headers,
		);
	}
	logRequest(state, midStreamError ? 502 : 200, route.providerId, charged);
}

/**
 * Streams the provider's events to the client until the end, a provider
 * failure or a client disconnect, and reports which of those happened.
 */
async function pipeEvents(
	opened: OpenedStream,
	sse: EventStream,
	meta: CompletionMeta,
	accumulator: CompletionAccumulator,
	state: RequestState,
): Promise<UsageStatus> {
	const send = async (providerEvent: ProviderEvent) => {
		accumulator.add(providerEvent);
		const data = eventChunk(meta, providerEvent);
		if (data) await sse.send(data);
	};
	for (const providerEvent of opened.buffered) await send(providerEvent);
	const deadline = Date.now() + state.invocation.remainingTimeMs() - 5_000;
	try {
		for (;;) {
			if (sse.closed) return "client_disconnected";
			const timeoutMs = Math.max(
				1,
				Math.min(opened.route.timeoutMs, deadline - Date.now()),
			);
			const next = await nextEvent(
				opened.route,
				opened.rest,
				timeoutMs,
				opened.abort,
			);
			if (next.done) return "completed";
			await send(next.value);
		}
	} catch (error) {
		if (sse.closed) return "client_disconnected";
		log.warn("provider failed mid-stream", {
			requestId: state.invocation.requestId,
			provider: opened.route.providerId,
			...errorSummary(error),
		});
		return "provider_failed_mid_stream";
	} finally {
		opened.abort.abort();
	}
}

/**
 * Publishes the request count, and the fallback count when a candidate
 * after the first served, for the fallback-rate alarm.
 */
function publishMetrics(state: RequestState, served: boolean): void {
	if (!state.plan) return;
	metrics.addMetric(METRIC_NAMES.requestCount, MetricUnit.Count, 1);
	if (served && state.attempts.length > 1) {
		metrics.addMetric(METRIC_NAMES.fallbackCount, MetricUnit.Count, 1);
	}
	metrics.publishStoredMetrics();
}

function logRequest(
	state: RequestState,
	status: number,
	provider: string | undefined,
	chargeMicroUsd: number,
): void {
	publishMetrics(state, provider !== undefined);
	log.info("chat request", {
		requestId: state.invocation.requestId,
		workspaceId: state.auth?.key.workspaceId,
		keyId: state.auth?.key.keyId,
		model: state.request?.model,
		provider,
		attempt: state.attempts.length,
		status,
		latencyMs: Date.now() - state.started,
		chargeMicroUsd,
	});
}
