/**
 * Adapter for OpenAI-compatible providers (OpenAI, DeepSeek, Qwen, Groq and
 * the like). The request passes through with the upstream model id, the
 * clamped output limit, and usage always requested.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { postJson } from "./http.ts";
import { readServerSentEvents } from "./sse.ts";
import {
	type OpenOptions,
	type ProviderAdapter,
	ProviderError,
	type ProviderEvent,
	type ToolCallDelta,
} from "./types.ts";

interface OpenAIChunk {
	error?: { message?: string; code?: string | number };
	choices?: {
		index: number;
		delta?: {
			content?: string | null;
			refusal?: string | null;
			tool_calls?: ToolCallDelta[];
		};
		finish_reason?: string | null;
	}[];
	usage?: {
		prompt_tokens?: number;
		completion_tokens?: number;
		prompt_tokens_details?: { cached_tokens?: number } | null;
		completion_tokens_details?: { reasoning_tokens?: number } | null;
	} | null;
}

/** Builds the upstream body: the client's fields with gateway overrides. */
function upstreamBody(
	route: CatalogRoute,
	request: ChatCompletionRequest,
	options: OpenOptions,
): Record<string, unknown> {
	const {
		max_tokens: _maxTokens,
		max_completion_tokens: _maxCompletionTokens,
		stream_options: _streamOptions,
		...rest
	} = request;
	return {
		...rest,
		model: route.upstreamModel ?? route.model,
		stream: true,
		stream_options: { include_usage: true },
		max_tokens: options.maxOutputTokens,
	};
}

async function* normalize(
	route: CatalogRoute,
	body: ReadableStream<Uint8Array>,
): AsyncGenerator<ProviderEvent> {
	for await (const event of readServerSentEvents(body)) {
		if (event.data === "[DONE]") return;
		let chunk: OpenAIChunk;
		try {
			chunk = JSON.parse(event.data) as OpenAIChunk;
		} catch {
			throw new ProviderError(
				"stream_error",
				`Provider ${route.providerId} sent a malformed stream event.`,
			);
		}
		if (chunk.error || event.event === "error") {
			throw new ProviderError(
				"stream_error",
				`Provider ${route.providerId} reported an error in the stream: ${chunk.error?.message ?? "unknown"}`,
			);
		}
		for (const choice of chunk.choices ?? []) {
			const delta = choice.delta ?? {};
			if (delta.content || delta.refusal || delta.tool_calls?.length) {
				yield {
					type: "delta",
					index: choice.index,
					...(delta.content ? { content: delta.content } : {}),
					...(delta.refusal ? { refusal: delta.refusal } : {}),
					...(delta.tool_calls?.length ? { toolCalls: delta.tool_calls } : {}),
				};
			}
			if (choice.finish_reason) {
				yield {
					type: "finish",
					index: choice.index,
					finishReason: choice.finish_reason,
				};
			}
		}
		if (chunk.usage) {
			const completionTokens = chunk.usage.completion_tokens ?? 0;
			yield {
				type: "usage",
				usage: {
					promptTokens: chunk.usage.prompt_tokens ?? 0,
					cachedPromptTokens:
						chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
					completionTokens,
					reasoningTokens:
						chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
				},
			};
		}
	}
}

export const openAICompatibleAdapter: ProviderAdapter = {
	async open(route, request, options) {
		const headers: Record<string, string> = { accept: "text/event-stream" };
		if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
		const response = await postJson(
			route,
			`${route.baseUrl.replace(/\/$/, "")}/chat/completions`,
			upstreamBody(route, request, options),
			headers,
			options.signal,
		);
		return normalize(route, response.body as ReadableStream<Uint8Array>);
	},
};
