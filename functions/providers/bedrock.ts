/**
 * Adapter for Amazon Bedrock's Converse API, streamed with
 * ConverseStreamCommand of `@aws-sdk/client-bedrock-runtime`.
 *
 * A route's `baseUrl` picks the endpoint:
 * - `bedrock://<region>`: the SDK's regional endpoint for that region, signed
 *   with the default credential chain (the Lambda role when deployed).
 * - `http(s)://...` (the local simulator): that URL as the endpoint, region
 *   us-east-1 and static local credentials, so no credential or metadata
 *   lookup ever runs.
 *
 * The request translation follows the Anthropic adapter's rules: system
 * texts and the `response_format` instruction go to `system`, messages of
 * one role merge into one turn, `temperature` is capped at 1, `n` above 1
 * is rejected. Images must be base64 data URLs, because Converse reads image
 * bytes or S3 objects and not http(s) URLs.
 */
import {
	BedrockRuntimeClient,
	type BedrockRuntimeClientConfig,
	ConverseStreamCommand,
	type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import type { CatalogRoute } from "../../shared/catalog.ts";
import { toConverseStreamInput } from "./bedrock-request.ts";
import {
	type OpenOptions,
	type ProviderAdapter,
	ProviderError,
	type ProviderEvent,
	providerErrorFromStatus,
} from "./types.ts";

/** Region of the simulator and other http(s) endpoints. */
const LOCAL_REGION = "us-east-1";

/** Maximum length of a provider message passed on to a client, in characters. */
const MAX_PROVIDER_MESSAGE_LENGTH = 500;

// Client configuration.

/**
 * Builds the SDK client configuration of a route's `baseUrl`.
 *
 * The SDK makes one attempt (`maxAttempts: 1`), because the gateway falls
 * back to the next provider instead of retrying the same one.
 *
 * @throws Error for a baseUrl that is neither `bedrock://<region>` nor http(s).
 */
export function bedrockClientConfig(
	baseUrl: string,
): BedrockRuntimeClientConfig {
	const regional = /^bedrock:\/\/([a-z]{2}(?:-[a-z]+)+-\d+)\/?$/.exec(baseUrl);
	if (regional) return { region: regional[1] as string, maxAttempts: 1 };
	if (/^https?:\/\//.test(baseUrl)) {
		return {
			endpoint: baseUrl.replace(/\/$/, ""),
			region: LOCAL_REGION,
			credentials: { accessKeyId: "local", secretAccessKey: "local" },
			maxAttempts: 1,
		};
	}
	throw new Error(
		`Invalid Bedrock baseUrl "${baseUrl}": use bedrock://<region>, such as bedrock://ap-southeast-1, or an http(s) endpoint URL.`,
	);
}

/** One client per baseUrl, kept for the life of the Lambda instance. */
const clients = new Map<string, BedrockRuntimeClient>();

function clientFor(baseUrl: string): BedrockRuntimeClient {
	let client = clients.get(baseUrl);
	if (!client) {
		client = new BedrockRuntimeClient(bedrockClientConfig(baseUrl));
		clients.set(baseUrl, client);
	}
	return client;
}

// Errors.

const ERROR_KINDS: Record<string, ProviderError["kind"]> = {
	ThrottlingException: "rate_limited",
	ServiceQuotaExceededException: "rate_limited",
	ServiceUnavailableException: "server_error",
	InternalServerException: "server_error",
	ModelNotReadyException: "server_error",
	ModelErrorException: "server_error",
	// The model id comes from the catalog, so another route may still serve it.
	ResourceNotFoundException: "server_error",
	ModelTimeoutException: "timeout",
	TimeoutError: "timeout",
	ModelStreamErrorException: "stream_error",
	AccessDeniedException: "auth",
	UnrecognizedClientException: "auth",
	InvalidSignatureException: "auth",
	IncompleteSignatureException: "auth",
	ExpiredTokenException: "auth",
	MissingAuthenticationTokenException: "auth",
	CredentialsProviderError: "auth",
	ValidationException: "client_error",
};

interface SdkError {
	name?: string;
	message?: string;
	$metadata?: { httpStatusCode?: number };
	$response?: { headers?: Record<string, string | undefined> };
}

/**
 * Classifies an SDK error, thrown by `send()` or while reading the event
 * stream, as a ProviderError. Stream exception names start in lower case
 * (`throttlingException`), so the first letter is upper-cased for lookup.
 */
export function providerErrorFromBedrock(
	providerId: string,
	error: unknown,
	timedOut: boolean,
): ProviderError {
	if (error instanceof ProviderError) return error;
	const sdkError = (error ?? {}) as SdkError;
	const rawName = sdkError.name ?? "";
	const name = rawName.charAt(0).toUpperCase() + rawName.slice(1);
	const message = (sdkError.message ?? "").slice(
		0,
		MAX_PROVIDER_MESSAGE_LENGTH,
	);
	const status = sdkError.$metadata?.httpStatusCode;

	if (name === "AbortError") {
		return timedOut
			? new ProviderError("timeout", `Provider ${providerId} timed out.`, {
					cause: error,
				})
			: new ProviderError(
					"connection",
					`The request to provider ${providerId} was aborted.`,
					{ cause: error },
				);
	}
	const kind = ERROR_KINDS[name];
	if (kind === "client_error") {
		return new ProviderError("client_error", message || name, {
			status: status ?? 400,
			cause: error,
		});
	}
	if (kind === "auth") {
		return new ProviderError(
			"auth",
			`Provider ${providerId} rejected the gateway's credentials (${name}).`,
			{ ...(status ? { status } : {}), cause: error },
		);
	}
	if (kind) {
		const retryAfter = Number(sdkError.$response?.headers?.["retry-after"]);
		return new ProviderError(
			kind,
			`Provider ${providerId} failed with ${name}: ${message}`,
			{
				...(status ? { status } : {}),
				...(Number.isFinite(retryAfter)
					? { retryAfterSeconds: retryAfter }
					: {}),
				cause: error,
			},
		);
	}
	if (status) {
		return providerErrorFromStatus(
			providerId,
			status,
			message,
			sdkError.$response?.headers?.["retry-after"] ?? null,
		);
	}
	return new ProviderError(
		"connection",
		`Connection to provider ${providerId} failed: ${message || rawName || "unknown error"}`,
		{ cause: error },
	);
}

// Stream translation.

/** Maps a Converse `stopReason` to an OpenAI `finish_reason`. */
export function bedrockFinishReason(stopReason: string): string {
	switch (stopReason) {
		case "max_tokens":
		case "model_context_window_exceeded":
			return "length";
		case "tool_use":
			return "tool_calls";
		case "content_filtered":
		case "guardrail_intervened":
			return "content_filter";
		default:
			// end_turn, stop_sequence and reasons added later
			return "stop";
	}
}

const STREAM_EXCEPTIONS = [
	"internalServerException",
	"modelStreamErrorException",
	"serviceUnavailableException",
	"throttlingException",
	"validationException",
] as const;

/**
 * Turns ConverseStream events into normalized events. Tool calls are
 * numbered from 0 in order of their toolUse blocks, apart from text blocks.
 */
export class BedrockStreamTranslator {
	/** Whether `messageStop` arrived. */
	stopped = false;
	private readonly route: CatalogRoute;
	private readonly toolIndexByBlock = new Map<number, number>();

	constructor(route: CatalogRoute) {
		this.route = route;
	}

	/**
	 * Translates one stream event to normalized events.
	 *
	 * @throws ProviderError for an exception event.
	 */
	translate(event: ConverseStreamOutput): ProviderEvent[] {
		for (const name of STREAM_EXCEPTIONS) {
			const exception = (
				event as unknown as Record<string, { message?: string }>
			)[name];
			if (exception) {
				throw providerErrorFromBedrock(
					this.route.providerId,
					{ name, message: exception.message },
					false,
				);
			}
		}
		if (event.contentBlockStart) {
			const { contentBlockIndex, start } = event.contentBlockStart;
			const toolUse = start?.toolUse;
			if (!toolUse) return [];
			const toolIndex = this.toolIndexByBlock.size;
			this.toolIndexByBlock.set(contentBlockIndex ?? 0, toolIndex);
			return [
				{
					type: "delta",
					index: 0,
					toolCalls: [
						{
							index: toolIndex,
							id: String(toolUse.toolUseId),
							type: "function",
							function: { name: String(toolUse.name), arguments: "" },
						},
					],
				},
			];
		}
		if (event.contentBlockDelta) {
			return this.blockDelta(
				event.contentBlockDelta.contentBlockIndex ?? 0,
				event.contentBlockDelta.delta,
			);
		}
		if (event.messageStop) {
			this.stopped = true;
			return [
				{
					type: "finish",
					index: 0,
					finishReason: bedrockFinishReason(
						event.messageStop.stopReason ?? "end_turn",
					),
				},
			];
		}
		if (event.metadata?.usage) {
			const usage = event.metadata.usage;
			const cacheRead = usage.cacheReadInputTokens ?? 0;
			const cacheWrite = usage.cacheWriteInputTokens ?? 0;
			return [
				{
					type: "usage",
					usage: {
						// Converse inputTokens excludes cache reads and writes.
						promptTokens: (usage.inputTokens ?? 0) + cacheRead + cacheWrite,
						cachedPromptTokens: cacheRead,
						completionTokens: usage.outputTokens ?? 0,
						reasoningTokens: 0,
					},
				},
			];
		}
		return [];
	}

	private blockDelta(
		blockIndex: number,
		delta: NonNullable<ConverseStreamOutput["contentBlockDelta"]>["delta"],
	): ProviderEvent[] {
		if (typeof delta?.text === "string") {
			return delta.text
				? [{ type: "delta", index: 0, content: delta.text }]
				: [];
		}
		const piece = delta?.toolUse?.input;
		const toolIndex = this.toolIndexByBlock.get(blockIndex);
		if (typeof piece !== "string" || !piece || toolIndex === undefined) {
			return [];
		}
		return [
			{
				type: "delta",
				index: 0,
				toolCalls: [{ index: toolIndex, function: { arguments: piece } }],
			},
		];
	}
}

async function* normalize(
	route: CatalogRoute,
	stream: AsyncIterable<ConverseStreamOutput>,
	signal: AbortSignal,
	release: () => void,
): AsyncGenerator<ProviderEvent> {
	const translator = new BedrockStreamTranslator(route);
	try {
		for await (const event of stream) {
			yield* translator.translate(event);
		}
	} catch (error) {
		if (signal.aborted) {
			throw new ProviderError(
				"connection",
				`The request to provider ${route.providerId} was aborted.`,
				{ cause: error },
			);
		}
		throw providerErrorFromBedrock(route.providerId, error, false);
	} finally {
		release();
	}
	if (translator.stopped) return;
	// An abort after the response head ends the event stream without an error.
	if (signal.aborted) {
		throw new ProviderError(
			"connection",
			`The request to provider ${route.providerId} was aborted.`,
		);
	}
	throw new ProviderError(
		"stream_error",
		`Provider ${route.providerId} ended the stream before messageStop.`,
	);
}

export const bedrockAdapter: ProviderAdapter = {
	async open(route, request, options: OpenOptions) {
		const input = toConverseStreamInput(
			route,
			request,
			options.maxOutputTokens,
		);
		const client = clientFor(route.baseUrl);

		// The timeout covers the response head only, so it aborts through a
		// controller whose timer stops once send() returns.
		const abort = new AbortController();
		const onAbort = () => abort.abort(options.signal.reason);
		if (options.signal.aborted) onAbort();
		options.signal.addEventListener("abort", onAbort, { once: true });
		const release = () => options.signal.removeEventListener("abort", onAbort);
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			abort.abort();
		}, route.timeoutMs);

		try {
			const output = await client.send(new ConverseStreamCommand(input), {
				abortSignal: abort.signal,
			});
			if (!output.stream) {
				throw new ProviderError(
					"stream_error",
					`Provider ${route.providerId} answered without an event stream.`,
				);
			}
			return normalize(route, output.stream, abort.signal, release);
		} catch (error) {
			release();
			throw providerErrorFromBedrock(route.providerId, error, timedOut);
		} finally {
			clearTimeout(timer);
		}
	},
};
