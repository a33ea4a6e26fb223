/**
 * Prompt token estimate used for reservations. It must not fall below what
 * providers count, or a request could cost more than it reserved. So it
 * counts one token per two UTF-8 bytes of text, plus a per-message and
 * per-request overhead. Byte-level BPE tokenizers produce roughly one token
 * per three to four bytes of English and per three bytes of Chinese (an
 * estimate, not a bound), and settlement caps any overrun at the balance.
 */
import type { ChatCompletionRequest } from "./schemas/chat.ts";

const BYTES_PER_TOKEN_BOUND = 2;
const TOKENS_PER_MESSAGE = 8;
const TOKENS_PER_REQUEST = 16;
/** Flat estimate for one image input, whatever its size. */
const TOKENS_PER_IMAGE = 1_600;

function textBytes(value: unknown): number {
	return Buffer.byteLength(
		typeof value === "string" ? value : JSON.stringify(value ?? ""),
		"utf8",
	);
}

/** Estimates the prompt tokens of a chat request, erring high. */
export function estimatePromptTokens(request: ChatCompletionRequest): number {
	let bytes = 0;
	let images = 0;
	for (const message of request.messages) {
		const { content } = message as { content?: unknown };
		if (Array.isArray(content)) {
			for (const part of content) {
				if ((part as { type?: string }).type === "image_url") images++;
				else bytes += textBytes((part as { text?: unknown }).text ?? part);
			}
		} else {
			bytes += textBytes(content);
		}
		const { tool_calls: toolCalls } = message as { tool_calls?: unknown };
		if (toolCalls) bytes += textBytes(toolCalls);
	}
	if (request.tools) bytes += textBytes(request.tools);
	if (request.response_format) bytes += textBytes(request.response_format);
	return (
		Math.ceil(bytes / BYTES_PER_TOKEN_BOUND) +
		TOKENS_PER_MESSAGE * request.messages.length +
		TOKENS_PER_IMAGE * images +
		TOKENS_PER_REQUEST
	);
}

/**
 * Estimates completion tokens from delivered text when the provider sent no
 * usage (a stream cut short): one token per four UTF-8 bytes, at least one
 * per delivered chunk.
 */
export function estimateDeliveredTokens(text: string, chunks: number): number {
	return Math.max(chunks, Math.ceil(Buffer.byteLength(text, "utf8") / 4));
}

/** Typical UTF-8 bytes per token of English text for byte-level BPE tokenizers (an estimate). */
const TYPICAL_BYTES_PER_TOKEN = 4;
/** Typical per-message overhead of chat formats, in tokens (an estimate). */
const TYPICAL_TOKENS_PER_MESSAGE = 4;

/**
 * Estimates the prompt tokens to bill when a provider sent no usage (a
 * stream cut short). Unlike {@link estimatePromptTokens}, which must err
 * high for reservations, this aims at the typical count, so a cut request
 * is not billed above what a completed one would cost.
 */
export function estimateBilledPromptTokens(
	request: ChatCompletionRequest,
): number {
	let bytes = 0;
	for (const message of request.messages) {
		const { content } = message as { content?: unknown };
		bytes += textBytes(content);
		const { tool_calls: toolCalls } = message as { tool_calls?: unknown };
		if (toolCalls) bytes += textBytes(toolCalls);
	}
	if (request.tools) bytes += textBytes(request.tools);
	return (
		Math.ceil(bytes / TYPICAL_BYTES_PER_TOKEN) +
		TYPICAL_TOKENS_PER_MESSAGE * request.messages.length
	);
}
