/**
 * Calls candidates in order until one starts streaming a response. A retryable failure
 * before the first byte reaches the client moves on to the next candidate,
 * but a client error (400 and the like) stops at once. Every attempt is
 * recorded for the audit trail.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import {
	recordAuthFailure,
	recordFailure,
	recordSuccess,
} from "../providers/health.ts";
import { adapterFor, apiKeyFor } from "../providers/registry.ts";
import {
	ProviderError,
	type ProviderEvent,
	providerErrorFromNetwork,
} from "../providers/types.ts";

/** Most providers tried for one request. */
export const MAX_ATTEMPTS = 3;

export interface AttemptRecord {
	providerId: string;
	routeId: string;
	/** `served`, or the failure kind that moved routing on. */
	outcome: string;
	status?: number;
	latencyMs: number;
	reason?: string;
}

/** A provider stream whose first meaningful events are already read. */
export interface OpenedStream {
	route: CatalogRoute;
	/** Events read before the first byte went to the client. */
	buffered: ProviderEvent[];
	/** The rest of the stream. */
	rest: AsyncIterator<ProviderEvent>;
	abort: AbortController;
}

export interface AttemptOptions {
	maxOutputTokens: number;
	/** Read the whole stream before committing (non-streamed responses). */
	readToEnd: boolean;
}

/**
 * Reads the next event, failing with a timeout when none arrives within
 * `timeoutMs` and converting network failures to ProviderError.
 */
export async function nextEvent(
	route: CatalogRoute,
	iterator: AsyncIterator<ProviderEvent>,
	timeoutMs: number,
	abort: AbortController,
): Promise<IteratorResult<ProviderEvent>> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			abort.abort();
			reject(
				new ProviderError(
					"timeout",
					`Provider ${route.providerId} stopped sending for ${timeoutMs} ms.`,
				),
			);
		}, timeoutMs);
	});
	try {
		return await Promise.race([iterator.next(), timeout]);
	} catch (error) {
		throw providerErrorFromNetwork(route.providerId, error, false);
	} finally {
		clearTimeout(timer);
	}
}

async function openOne(
	route: CatalogRoute,
	request: ChatCompletionRequest,
	options: AttemptOptions,
): Promise<OpenedStream> {
	const abort = new AbortController();
	try {
		const events = await adapterFor(route).open(route, request, {
			signal: abort.signal,
			apiKey: await apiKeyFor(route),
			maxOutputTokens: options.maxOutputTokens,
		});
		const iterator = events[Symbol.asyncIterator]();
		const buffered: ProviderEvent[] = [];
		for (;;) {
			const next = await nextEvent(route, iterator, route.timeoutMs, abort);
			if (next.done) {
				if (buffered.length === 0) {
					throw new ProviderError(
						"stream_error",
						`Provider ${route.providerId} ended the stream without content.`,
					);
				}
				break;
			}
			buffered.push(next.value);
			if (!options.readToEnd && next.value.type !== "usage") break;
		}
		return { route, buffered, rest: iterator, abort };
	} catch (error) {
		abort.abort();
		throw error;
	}
}

const FAILURE_TEXT: Record<ProviderError["kind"], string> = {
	timeout: "timed out",
	connection: "could not be reached",
	rate_limited: "is rate limiting",
	server_error: "failed",
	stream_error: "broke off its stream",
	auth: "rejected the gateway's credentials",
	client_error: "rejected the request",
};

/**
 * Describes a provider failure in the gateway's own words, for audit
 * records and logs. The provider's message is left out because a provider
 * may quote the prompt in it.
 */
export function describeFailure(
	providerId: string,
	failure: ProviderError,
): string {
	const status = failure.status ? ` (HTTP ${failure.status})` : "";
	return `Provider ${providerId} ${FAILURE_TEXT[failure.kind]}${status}.`;
}

export interface AttemptResult {
	opened?: OpenedStream;
	attempts: AttemptRecord[];
	/** The failure that ended routing, when no candidate served the request. */
	lastError?: ProviderError;
}

/** Tries candidates in order; see the module comment for the rules. */
export async function openFirstAvailable(
	candidates: readonly CatalogRoute[],
	request: ChatCompletionRequest,
	options: AttemptOptions,
): Promise<AttemptResult> {
	const attempts: AttemptRecord[] = [];
	let lastError: ProviderError | undefined;
	for (const route of candidates.slice(0, MAX_ATTEMPTS)) {
		const started = Date.now();
		try {
			const opened = await openOne(route, request, options);
			recordSuccess(route.providerId);
			attempts.push({
				providerId: route.providerId,
				routeId: route.id,
				outcome: "served",
				latencyMs: Date.now() - started,
			});
			return { opened, attempts };
		} catch (error) {
			const failure =
				error instanceof ProviderError
					? error
					: providerErrorFromNetwork(route.providerId, error, false);
			lastError = failure;
			attempts.push({
				providerId: route.providerId,
				routeId: route.id,
				outcome: failure.kind,
				...(failure.status ? { status: failure.status } : {}),
				latencyMs: Date.now() - started,
				reason: describeFailure(route.providerId, failure),
			});
			if (!failure.retryable) break;
			if (failure.kind === "auth") recordAuthFailure(route.providerId);
			else recordFailure(route.providerId);
		}
	}
	return { attempts, lastError };
}
