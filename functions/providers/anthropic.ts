/**
 * Adapter for the Anthropic Messages API (`POST /v1/messages`, streamed).
 * The OpenAI chat request is translated to a Messages request, and the
 * Messages event stream back to normalized provider events.
 *
 * Translation rules, request side:
 * - `system` and `developer` messages join the top-level `system` text.
 * - Consecutive messages of one role merge into one turn, so tool results
 *   (OpenAI `tool` messages) become `tool_result` blocks in one user turn.
 * - `response_format` `json_object` or `json_schema` becomes a system
 *   instruction, because the Messages API has no JSON mode.
 * - `temperature` is capped at 1, the Messages API's maximum (OpenAI allows 2).
 * - `n` above 1 is rejected: Messages returns one choice per request.
 * - Penalties, `logit_bias`, `seed` and `logprobs` have no Messages
 *   equivalent and are dropped.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import type { TokenUsage } from "../../shared/pricing.ts";
import type {
	ChatCompletionRequest,
	ChatMessage,
} from "../../shared/schemas/chat.ts";
import {
	type ContentBlockFormat,
	cappedTemperature,
	parseDataUrl,
	requireSingleChoice,
	stopSequences,
	systemTexts,
	toTurns,
	translationError,
} from "./chat-translation.ts";
import { postJson } from "./http.ts";
import { readServerSentEvents } from "./sse.ts";
import {
	type OpenOptions,
	type ProviderAdapter,
	ProviderError,
	type ProviderEvent,
	providerErrorFromNetwork,
} from "./types.ts";

/** The Messages API version the adapter speaks. */
export const ANTHROPIC_VERSION = "2023-06-01";

type Json = Record<string, unknown>;

type AnthropicBlock = Json & { type: string };

interface AnthropicMessage {
	role: "user" | "assistant";
	content: AnthropicBlock[];
}

// Request translation.

function imageBlock(route: CatalogRoute, url: string): AnthropicBlock {
	const data = parseDataUrl(url);
	if (data) {
		return {
			type: "image",
			source: { type: "base64", media_type: data.mediaType, data: data.base64 },
		};
	}
	if (/^https?:\/\//.test(url)) {
		return { type: "image", source: { type: "url", url } };
	}
	throw translationError(
		route,
		"an image_url is neither an http(s) URL nor a base64 data URL. Send one of those",
	);
}

const anthropicBlocks: ContentBlockFormat<AnthropicBlock> = {
	apiName: "Anthropic Messages API",
	text: (text) => ({ type: "text", text }),
	image: imageBlock,
	toolUse: (id, name, input) => ({ type: "tool_use", id, name, input }),
	toolResult: (toolCallId, text) => ({
		type: "tool_result",
		tool_use_id: toolCallId,
		content: text,
	}),
	isToolResult: (block) => block.type === "tool_result",
};

/**
 * Builds the Messages turns, with tool results first in their user turn as
 * the Messages API requires.
 */
export function toAnthropicMessages(
	route: CatalogRoute,
	messages: readonly ChatMessage[],
): AnthropicMessage[] {
	return toTurns(route, messages, anthropicBlocks);
}

function anthropicToolChoice(request: ChatCompletionRequest): Json | undefined {
	const choice = request.tool_choice;
	const disableParallel = request.parallel_tool_calls === false;
	const parallel = disableParallel ? { disable_parallel_tool_use: true } : {};
	if (choice === undefined) {
		return disableParallel ? { type: "auto", ...parallel } : undefined;
	}
	if (choice === "none") return { type: "none" };
	if (choice === "auto") return { type: "auto", ...parallel };
	if (choice === "required") return { type: "any", ...parallel };
	return { type: "tool", name: choice.function.name, ...parallel };
}

/**
 * Translates an OpenAI chat request to a streamed Messages request body.
 *
 * @throws ProviderError client_error for `n` above 1, unsupported content
 *   parts and tool-call arguments that are not a JSON object.
 */
export function toAnthropicRequest(
	route: CatalogRoute,
	request: ChatCompletionRequest,
	maxOutputTokens: number,
): Json {
	requireSingleChoice(route, request);
	const body: Json = {
		model: route.upstreamModel ?? route.model,
		max_tokens: maxOutputTokens,
		stream: true,
		messages: toAnthropicMessages(route, request.messages),
	};

	const system = systemTexts(request);
	if (system.length > 0) {
		body.system = system.map((text) => ({ type: "text", text }));
	}
	const temperature = cappedTemperature(request.temperature);
	if (temperature !== undefined) body.temperature = temperature;
	if (request.top_p !== null && request.top_p !== undefined) {
		body.top_p = request.top_p;
	}
	const stop = stopSequences(request.stop);
	if (stop) body.stop_sequences = stop;
	if (request.user) body.metadata = { user_id: request.user };

	if (request.tools && request.tools.length > 0) {
		body.tools = request.tools.map((tool) => ({
			name: tool.function.name,
			...(tool.function.description
				? { description: tool.function.description }
				: {}),
			input_schema: tool.function.parameters ?? {
				type: "object",
				properties: {},
			},
		}));
		const toolChoice = anthropicToolChoice(request);
		if (toolChoice) body.tool_choice = toolChoice;
	}
	return body;
}

// Stream translation.

interface AnthropicUsage {
	input_tokens?: number | null;
	output_tokens?: number | null;
	cache_read_input_tokens?: number | null;
	cache_creation_input_tokens?: number | null;
}

/** Maps a Messages `stop_reason` to an OpenAI `finish_reason`. */
export function anthropicFinishReason(stopReason: string): string {
	switch (stopReason) {
		case "max_tokens":
		case "model_context_window_exceeded":
			return "length";
		case "tool_use":
			return "tool_calls";
		case "refusal":
			return "content_filter";
		default:
			// end_turn, stop_sequence and pause_turn
			return "stop";
	}
}

/**
 * Turns Messages stream events into normalized events. Tool calls are
 * numbered from 0 in order of their `tool_use` blocks, apart from text
 * blocks, as OpenAI numbers `tool_calls`.
 */
export class AnthropicStreamTranslator {
	/** Whether `message_stop` arrived. */
	finished = false;
	private readonly route: CatalogRoute;
	private readonly toolIndexByBlock = new Map<number, number>();
	private usage: AnthropicUsage = {};

	constructor(route: CatalogRoute) {
		this.route = route;
	}

	/**
	 * Translates one stream event to normalized events.
	 *
	 * @throws ProviderError stream_error for an `error` event.
	 */
	translate(eventName: string, data: Json): ProviderEvent[] {
		const type = typeof data.type === "string" ? data.type : eventName;
		switch (type) {
			case "message_start":
				this.addUsage((data.message as { usage?: AnthropicUsage })?.usage);
				return [];
			case "content_block_start":
				return this.blockStart(
					data.index as number,
					data.content_block as Json,
				);
			case "content_block_delta":
				return this.blockDelta(data.index as number, data.delta as Json);
			case "message_delta":
				return this.messageDelta(data);
			case "message_stop":
				this.finished = true;
				return [];
			case "error":
				throw this.streamError(data);
			default:
				// ping, content_block_stop and event types added later
				return [];
		}
	}

	private blockStart(blockIndex: number, block: Json): ProviderEvent[] {
		if (
			block?.type === "text" &&
			typeof block.text === "string" &&
			block.text
		) {
			return [{ type: "delta", index: 0, content: block.text }];
		}
		if (block?.type !== "tool_use") return [];
		const toolIndex = this.toolIndexByBlock.size;
		this.toolIndexByBlock.set(blockIndex, toolIndex);
		return [
			{
				type: "delta",
				index: 0,
				toolCalls: [
					{
						index: toolIndex,
						id: String(block.id),
						type: "function",
						function: { name: String(block.name), arguments: "" },
					},
				],
			},
		];
	}

	private blockDelta(blockIndex: number, delta: Json): ProviderEvent[] {
		if (delta?.type === "text_delta" && typeof delta.text === "string") {
			return delta.text
				? [{ type: "delta", index: 0, content: delta.text }]
				: [];
		}
		if (delta?.type !== "input_json_delta") return [];
		const toolIndex = this.toolIndexByBlock.get(blockIndex);
		const piece = delta.partial_json;
		if (toolIndex === undefined || typeof piece !== "string" || !piece) {
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

	private messageDelta(data: Json): ProviderEvent[] {
		this.addUsage(data.usage as AnthropicUsage | undefined);
		const events: ProviderEvent[] = [];
		const stopReason = (data.delta as { stop_reason?: string } | undefined)
			?.stop_reason;
		if (stopReason) {
			events.push({
				type: "finish",
				index: 0,
				finishReason: anthropicFinishReason(stopReason),
			});
		}
		events.push({ type: "usage", usage: this.tokenUsage() });
		return events;
	}

	/** Later counts replace earlier ones, because `message_delta` counts are cumulative. */
	private addUsage(usage: AnthropicUsage | undefined): void {
		if (!usage) return;
		for (const [field, value] of Object.entries(usage)) {
			if (typeof value === "number") {
				this.usage[field as keyof AnthropicUsage] = value;
			}
		}
	}

	/** Messages `input_tokens` excludes cache reads and writes, but OpenAI's `prompt_tokens` includes them. */
	private tokenUsage(): TokenUsage {
		const cacheRead = this.usage.cache_read_input_tokens ?? 0;
		const cacheWrite = this.usage.cache_creation_input_tokens ?? 0;
		return {
			promptTokens: (this.usage.input_tokens ?? 0) + cacheRead + cacheWrite,
			cachedPromptTokens: cacheRead,
			completionTokens: this.usage.output_tokens ?? 0,
			reasoningTokens: 0,
		};
	}

	private streamError(data: Json): ProviderError {
		const error = (data.error ?? {}) as { type?: string; message?: string };
		return new ProviderError(
			"stream_error",
			`Provider ${this.route.providerId} reported ${error.type ?? "an error"} in the stream: ${error.message ?? "no message"}`,
		);
	}
}

async function* normalize(
	route: CatalogRoute,
	body: ReadableStream<Uint8Array>,
): AsyncGenerator<ProviderEvent> {
	const translator = new AnthropicStreamTranslator(route);
	try {
		for await (const event of readServerSentEvents(body)) {
			let data: Json;
			try {
				data = JSON.parse(event.data) as Json;
			} catch {
				throw new ProviderError(
					"stream_error",
					`Provider ${route.providerId} sent a malformed stream event.`,
				);
			}
			yield* translator.translate(event.event ?? "", data);
			if (translator.finished) return;
		}
	} catch (error) {
		throw providerErrorFromNetwork(route.providerId, error, false);
	}
	throw new ProviderError(
		"stream_error",
		`Provider ${route.providerId} ended the stream before message_stop.`,
	);
}

export const anthropicAdapter: ProviderAdapter = {
	async open(route, request, options: OpenOptions) {
		const body = toAnthropicRequest(route, request, options.maxOutputTokens);
		const headers: Record<string, string> = {
			accept: "text/event-stream",
			"anthropic-version": ANTHROPIC_VERSION,
		};
		if (options.apiKey) headers["x-api-key"] = options.apiKey;
		const response = await postJson(
			route,
			`${route.baseUrl.replace(/\/$/, "")}/v1/messages`,
			body,
			headers,
			options.signal,
		);
		return normalize(route, response.body as ReadableStream<Uint8Array>);
	},
};
