/**
 * The provider adapter contract. Every adapter turns a provider's stream
 * into the same normalized events, so the chat handler serves identical
 * OpenAI shapes whichever provider served the request.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import type { TokenUsage } from "../../shared/pricing.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";

export interface ToolCallDelta {
	index: number;
	id?: string;
	type?: "function";
	function?: { name?: string; arguments?: string };
}

/** One normalized event of a provider's response stream. */
export type ProviderEvent =
	| {
			type: "delta";
			/** Choice index (`n` > 1 gives several). */
			index: number;
			content?: string;
			refusal?: string;
			toolCalls?: ToolCallDelta[];
	  }
	| { type: "finish"; index: number; finishReason: string }
	| { type: "usage"; usage: TokenUsage };

export interface OpenOptions {
	/** Aborts the upstream request, for client disconnects and timeouts. */
	signal: AbortSignal;
	/** The provider's API key, when the route has one. */
	apiKey?: string;
	/** Output token limit after any clamp for credit. */
	maxOutputTokens: number;
}

/** An adapter opens a streamed completion and yields normalized events. */
export interface ProviderAdapter {
	/**
	 * Sends the request upstream and resolves once the provider accepted it.
	 *
	 * @throws ProviderError when the provider refuses or cannot be reached.
	 */
	open(
		route: CatalogRoute,
		request: ChatCompletionRequest,
		options: OpenOptions,
	): Promise<AsyncIterable<ProviderEvent>>;
}

export type ProviderFailureKind =
	| "timeout"
	| "connection"
	| "rate_limited"
	| "server_error"
	| "stream_error"
	| "auth"
	| "client_error";

/**
 * A provider failure, classified for fallback: retryable failures move on
 * to the next candidate, client errors go back to the caller as they are.
 */
export class ProviderError extends Error {
	readonly kind: ProviderFailureKind;
	/** Upstream HTTP status, when there was one. */
	readonly status?: number;
	readonly retryAfterSeconds?: number;

	constructor(
		kind: ProviderFailureKind,
		message: string,
		options: {
			status?: number;
			retryAfterSeconds?: number;
			cause?: unknown;
		} = {},
	) {
		super(message, { cause: options.cause });
		this.name = "ProviderError";
		this.kind = kind;
		this.status = options.status;
		this.retryAfterSeconds = options.retryAfterSeconds;
	}

	/** Whether another candidate may be tried. */
	get retryable(): boolean {
		return this.kind !== "client_error";
	}
}

/** Maximum length of a provider message passed on to a client, in characters. */
const MAX_PROVIDER_MESSAGE_LENGTH = 500;

/** Classifies an upstream HTTP status as a ProviderError. */
export function providerErrorFromStatus(
	providerId: string,
	status: number,
	bodyText: string,
	retryAfterHeader: string | null,
): ProviderError {
	const message = extractMessage(bodyText).slice(
		0,
		MAX_PROVIDER_MESSAGE_LENGTH,
	);
	const retryAfter = retryAfterHeader ? Number(retryAfterHeader) : undefined;
	const retryAfterSeconds =
		retryAfter !== undefined && Number.isFinite(retryAfter)
			? retryAfter
			: undefined;
	if (status === 429) {
		return new ProviderError(
			"rate_limited",
			`Provider ${providerId} is rate limiting: ${message}`,
			{
				status,
				retryAfterSeconds,
			},
		);
	}
	if (status === 401 || status === 403) {
		return new ProviderError(
			"auth",
			`Provider ${providerId} rejected the gateway's credentials (${status}).`,
			{ status },
		);
	}
	if (status === 408 || status >= 500) {
		return new ProviderError(
			"server_error",
			`Provider ${providerId} failed with ${status}: ${message}`,
			{
				status,
				retryAfterSeconds,
			},
		);
	}
	return new ProviderError(
		"client_error",
		message || `Provider ${providerId} rejected the request (${status}).`,
		{
			status,
		},
	);
}

function extractMessage(bodyText: string): string {
	try {
		const body = JSON.parse(bodyText) as {
			error?: { message?: unknown } | string;
			message?: unknown;
		};
		if (typeof body.error === "string") return body.error;
		if (typeof body.error?.message === "string") return body.error.message;
		if (typeof body.message === "string") return body.message;
	} catch {
		// Not JSON: fall through to the raw text.
	}
	return bodyText.trim();
}

/** Wraps a network failure (reset, refused, aborted) as a ProviderError. */
export function providerErrorFromNetwork(
	providerId: string,
	error: unknown,
	timedOut: boolean,
): ProviderError {
	if (error instanceof ProviderError) return error;
	if (timedOut) {
		return new ProviderError("timeout", `Provider ${providerId} timed out.`, {
			cause: error,
		});
	}
	return new ProviderError(
		"connection",
		`Connection to provider ${providerId} failed.`,
		{
			cause: error,
		},
	);
}
