/**
 * Credit reservation for a chat request: the worst-case cost over every
 * candidate, a clamp of the output limit when credit is short and the
 * client set none, and the idempotency record.
 */
import { createHash } from "node:crypto";
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { CatalogRoute } from "../../shared/catalog.ts";
import {
	authenticationFailed,
	conflict,
	insufficientCredit,
	invalidRequest,
	rateLimited,
} from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";
import {
	affordableOutputTokens,
	type TokenPrice,
	worstCaseChargeMicroUsd,
} from "../../shared/pricing.ts";
import {
	type ChatCompletionRequest,
	requestedMaxTokens,
} from "../../shared/schemas/chat.ts";
import { estimatePromptTokens } from "../../shared/tokens.ts";
import { header } from "../http/event.ts";
import type { ReservationItem } from "../store/items.ts";
import {
	type IdempotencyRecord,
	ReservationRefused,
	reserveCredit,
} from "../store/metering.ts";
import type { RequestState } from "./state.ts";

/** Output limit when the client sets none, before the route's own cap. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
/** Smallest output limit worth clamping to when credit is short. */
export const MIN_CLAMPED_OUTPUT_TOKENS = 16;
/** Time kept after the function's timeout before the reconciler may act. */
const RESERVATION_MARGIN_MS = 60_000;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Highest price of each kind among the candidates, for the worst case. */
export function highestPrice(candidates: readonly CatalogRoute[]): TokenPrice {
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

export function idempotencyOf(
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

export interface Reserved {
	reservation: ReservationItem;
	maxOutputTokens: number;
}

/**
 * How many times the worst-case cost the cached balance and key budget must
 * cover before the provider call starts alongside the reservation.
 */
const OVERLAP_MARGIN = 20;

/**
 * Figures of a request's worst case, computed once for the overlap decision
 * and the reservation.
 */
export interface ReservationPlan {
	/** Highest price of each kind among the candidates. */
	price: TokenPrice;
	promptTokens: number;
	/** Output limit before any clamp for credit: the request's, capped by the routes. */
	maxOutputTokens: number;
	choices: number;
}

/** Plans a request's worst case over its candidates. */
export function planReservation(
	request: ChatCompletionRequest,
	candidates: readonly CatalogRoute[],
): ReservationPlan {
	const routeCap = Math.max(
		...candidates.map((route) => route.maxOutputTokens),
	);
	return {
		price: highestPrice(candidates),
		promptTokens: estimatePromptTokens(request),
		maxOutputTokens: Math.min(
			requestedMaxTokens(request) ?? DEFAULT_MAX_OUTPUT_TOKENS,
			routeCap,
		),
		choices: request.n ?? 1,
	};
}

/**
 * Decides whether the provider call may start while the reservation is in
 * flight. It may when the last known balance and key budget are far above
 * the worst case, so the reservation almost surely succeeds, and when no
 * idempotency record or rate limit could refuse the request. No byte reaches
 * the client before the reservation succeeds, so the balance still never
 * goes below zero, and a refused reservation only aborts the provider call.
 */
export function canOverlapReservation(
	state: RequestState,
	plan: ReservationPlan,
	idempotency: { key: string } | undefined,
): boolean {
	const { auth } = state;
	if (!auth || idempotency || auth.key.rateLimit) return false;
	const worstCase = worstCaseChargeMicroUsd(
		plan.promptTokens,
		plan.maxOutputTokens * plan.choices,
		plan.price,
	);
	const budgetRoom =
		auth.key.budgetMicroUsd === undefined
			? Number.POSITIVE_INFINITY
			: (auth.key.budgetRemainingMicroUsd ?? 0);
	return (
		auth.approximateAvailableMicroUsd >= OVERLAP_MARGIN * worstCase &&
		budgetRoom >= OVERLAP_MARGIN * worstCase
	);
}

export async function reserve(
	state: RequestState,
	plan: ReservationPlan,
	idempotency: { key: string; bodyHash: string } | undefined,
): Promise<Reserved | { replay: IdempotencyRecord }> {
	const { auth, request, invocation } = state as Required<
		Pick<RequestState, "auth" | "request">
	> &
		RequestState;
	const { price, promptTokens, choices } = plan;
	const requested = requestedMaxTokens(request);
	let maxOutputTokens = plan.maxOutputTokens;
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
			if (failure.reason === "key_inactive") {
				throw authenticationFailed(
					`API key ${auth.maskedKey} (${auth.key.keyId}) has been revoked. Create a new key.`,
					"key_revoked",
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
