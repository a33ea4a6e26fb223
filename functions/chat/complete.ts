/**
 * The chat completions request path: authenticate, validate, route,
 * reserve, call with fallback, stream, settle. See functions/store/metering.ts
 * for the reserve and settle timeline.
 */
import type { Writable } from "node:stream";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEvent } from "aws-lambda";
import {
	type GatewayError,
	toGatewayError,
	upstreamFailed,
} from "../../shared/errors.ts";
import {
	priceUsage,
	type TokenPrice,
	type TokenUsage,
} from "../../shared/pricing.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import {
	estimateBilledPromptTokens,
	estimateDeliveredTokens,
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
import {
	type ProviderEvent,
	providerErrorFromNetwork,
} from "../providers/types.ts";
import type { UsageStatus } from "../store/items.ts";
import { releaseReservation, settleCharge } from "../store/metering.ts";
import {
	type AttemptResult,
	describeFailure,
	nextEvent,
	type OpenedStream,
	openFirstAvailable,
} from "./attempts.ts";
import { auditDetails, writeStandaloneAudit } from "./audit.ts";
import { failureToGatewayError } from "./failures.ts";
import {
	CompletionAccumulator,
	type CompletionMeta,
	eventChunk,
	roleChunk,
	usageChunk,
	usageObject,
} from "./openai-format.ts";
import { planOrThrow, validate } from "./plan.ts";
import { replay } from "./replay.ts";
import {
	canOverlapReservation,
	idempotencyOf,
	planReservation,
	type Reserved,
	reserve,
} from "./reserve.ts";
import { EventStream, writeError, writeJson } from "./response.ts";
import type { ChatInvocation, RequestState } from "./state.ts";

export type { ChatInvocation } from "./state.ts";

const log = loggerFor(SERVICE_NAMES.chat);
const metrics = new Metrics({
	namespace: METRIC_NAMESPACE,
	serviceName: SERVICE_NAMES.chat,
});

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
 * Failures become an OpenAI-shaped error response or, once streaming
 * began, an SSE error event, and a reservation is released or settled.
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
		const request = state.request;
		const attemptOptions = (maxOutputTokens: number) => ({
			maxOutputTokens,
			readToEnd: request.stream !== true,
		});

		// With credit far above the worst case, the provider's time to first
		// token hides the reservation's round trip. Nothing is sent to the
		// client before the reservation succeeds.
		const plan = planReservation(request, candidates);
		const planned = plan.maxOutputTokens;
		const early = canOverlapReservation(state, plan, idempotency)
			? openFirstAvailable(candidates, request, attemptOptions(planned))
			: undefined;
		const outcome = await reserve(state, plan, idempotency).catch(
			async (error: unknown) => {
				if (early) await discardAttempt(early);
				throw error;
			},
		);
		if ("replay" in outcome) {
			await replay(responseStream, state, outcome.replay);
			return;
		}
		reserved = outcome;

		let attempt: AttemptResult;
		if (early && reserved.maxOutputTokens === planned) {
			attempt = await early;
		} else {
			if (early) await discardAttempt(early);
			attempt = await openFirstAvailable(
				candidates,
				request,
				attemptOptions(reserved.maxOutputTokens),
			);
		}
		await callAndSettle(
			responseStream,
			state,
			attempt,
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

/** Closes a provider call that was started alongside a refused or clamped reservation. */
async function discardAttempt(early: Promise<AttemptResult>): Promise<void> {
	const result = await early;
	result.opened?.abort.abort();
}

async function callAndSettle(
	responseStream: Writable,
	state: RequestState,
	result: AttemptResult,
	reserved: Reserved,
	idempotencyKey: string | undefined,
): Promise<void> {
	const request = state.request as ChatCompletionRequest;
	const auth = state.auth as AuthenticatedKey;
	const streaming = request.stream === true;
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
	const promptEstimate = estimateBilledPromptTokens(request);
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

	const { usage, estimated } = finalUsage(accumulator, promptEstimate);
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
		...(idempotencyKey ? { idempotencyKey } : {}),
		...(idempotencyKey && status === "completed"
			? { idempotentResponse: JSON.stringify(completion) }
			: {}),
		...(estimated ? { usageEstimated: true } : {}),
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
	let finished = false;
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
			if (next.done) {
				finished = true;
				return "completed";
			}
			await send(next.value);
		}
	} catch (error) {
		if (sse.closed) return "client_disconnected";
		const failure = providerErrorFromNetwork(
			opened.route.providerId,
			error,
			false,
		);
		log.warn("provider failed mid-stream", {
			requestId: state.invocation.requestId,
			provider: opened.route.providerId,
			failureKind: failure.kind,
			reason: describeFailure(opened.route.providerId, failure),
		});
		return "provider_failed_mid_stream";
	} finally {
		// A stream that ended on its own needs no abort, which would only
		// build an abort error for nothing.
		if (!finished) opened.abort.abort();
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
