/**
 * Anthropic Messages wire format: request parsing, the buffered `message`
 * body, and the SSE event sequence (message_start, content_block_start,
 * content_block_delta, content_block_stop, message_delta, message_stop).
 *
 * Usage follows Anthropic's split: `input_tokens` excludes the prompt tokens
 * read from the cache, which are reported as `cache_read_input_tokens`.
 */

import {
	type CompletionPlan,
	type PlannedChoice,
	type PlannedUsage,
	type SimulatedMessage,
	SimulatedRequestError,
	type SimulatedTool,
	type ToolChoice,
} from "./completion.ts";
import type { Frame } from "./http.ts";

type Json = Record<string, unknown>;

export interface AnthropicParsed {
	model: string;
	messages: SimulatedMessage[];
	tools: SimulatedTool[];
	toolChoice: ToolChoice;
	maxTokens: number;
	stream: boolean;
}

/** Validates and normalizes a Messages request body. */
export function parseAnthropicRequest(body: unknown): AnthropicParsed {
	if (!body || typeof body !== "object" || Array.isArray(body)) {
		throw new SimulatedRequestError("The request body must be a JSON object.");
	}
	const raw = body as Json;
	if (typeof raw.model !== "string" || raw.model.length === 0) {
		throw new SimulatedRequestError("model: Field required", "model");
	}
	if (!Number.isSafeInteger(raw.max_tokens) || (raw.max_tokens as number) < 1) {
		throw new SimulatedRequestError(
			"max_tokens: Field required and must be a positive integer",
			"max_tokens",
		);
	}
	if (!Array.isArray(raw.messages) || raw.messages.length === 0) {
		throw new SimulatedRequestError(
			"messages: at least one message is required",
			"messages",
		);
	}

	const messages: SimulatedMessage[] = [];
	const system = blocksText(raw.system);
	if (system.length > 0) messages.push({ role: "system", text: system });
	for (const message of raw.messages as Json[]) {
		messages.push(normalizeMessage(message));
	}

	return {
		model: raw.model,
		messages,
		tools: parseTools(raw.tools),
		toolChoice: parseToolChoice(raw.tool_choice),
		maxTokens: raw.max_tokens as number,
		stream: raw.stream === true,
	};
}

function normalizeMessage(message: Json): SimulatedMessage {
	const content = message.content;
	if (Array.isArray(content)) {
		const blocks = content as Json[];
		const onlyToolResults =
			blocks.length > 0 &&
			blocks.every((block) => block.type === "tool_result");
		return {
			role: onlyToolResults ? "tool" : String(message.role),
			text: blocksText(blocks),
		};
	}
	return { role: String(message.role), text: blocksText(content) };
}

function blocksText(content: unknown): string {
	if (typeof content === "string") return content;
	if (!Array.isArray(content)) return "";
	return (content as Json[])
		.map((block) => {
			if (block.type === "text") return String(block.text ?? "");
			if (block.type === "tool_use") {
				return `${block.name} ${JSON.stringify(block.input ?? {})}`;
			}
			if (block.type === "tool_result") return blocksText(block.content);
			return "";
		})
		.filter((text) => text.length > 0)
		.join("\n");
}

function parseTools(tools: unknown): SimulatedTool[] {
	if (!Array.isArray(tools)) return [];
	return (tools as Json[]).map((tool, index) => {
		if (typeof tool.name !== "string") {
			throw new SimulatedRequestError(
				`tools.${index}.name: Field required`,
				`tools.${index}.name`,
			);
		}
		return {
			name: tool.name,
			description: typeof tool.description === "string" ? tool.description : "",
			parameters: tool.input_schema ?? {},
		};
	});
}

function parseToolChoice(choice: unknown): ToolChoice {
	const raw = (choice ?? {}) as Json;
	if (raw.type === "any") return { type: "required" };
	if (raw.type === "none") return { type: "none" };
	if (raw.type === "tool" && typeof raw.name === "string") {
		return { type: "tool", name: raw.name };
	}
	return { type: "auto" };
}

/** Anthropic usage: input excludes cache reads. */
export function anthropicUsage(usage: PlannedUsage): Json {
	return {
		input_tokens: usage.promptTokens - usage.cachedTokens,
		output_tokens: usage.completionTokens,
		cache_creation_input_tokens: 0,
		cache_read_input_tokens: usage.cachedTokens,
	};
}

function stopReason(choice: PlannedChoice): string {
	if (choice.finishReason === "tool_calls") return "tool_use";
	if (choice.finishReason === "length") return "max_tokens";
	return "end_turn";
}

/** The buffered `message` body. */
export function anthropicMessage(
	plan: CompletionPlan,
	id: string,
	model: string,
): Json {
	const choice = plan.choices[0] as PlannedChoice;
	const content =
		choice.toolCalls.length > 0
			? choice.toolCalls.map((call) => ({
					type: "tool_use",
					id: `toolu_${call.id}`,
					name: call.name,
					input: JSON.parse(call.arguments),
				}))
			: [{ type: "text", text: choice.pieces.join("") }];
	return {
		id,
		type: "message",
		role: "assistant",
		model,
		content,
		stop_reason: stopReason(choice),
		stop_sequence: null,
		usage: anthropicUsage(plan.usage),
	};
}

/** SSE events of a streamed message, in Anthropic's order. */
export function anthropicFrames(
	plan: CompletionPlan,
	id: string,
	model: string,
): Frame[] {
	const choice = plan.choices[0] as PlannedChoice;
	const usage = anthropicUsage(plan.usage);
	const frames: Frame[] = [
		event("message_start", {
			type: "message_start",
			message: {
				id,
				type: "message",
				role: "assistant",
				model,
				content: [],
				stop_reason: null,
				stop_sequence: null,
				usage: { ...usage, output_tokens: 1 },
			},
		}),
	];

	if (choice.toolCalls.length > 0) {
		choice.toolCalls.forEach((call, index) => {
			frames.push(
				event("content_block_start", {
					type: "content_block_start",
					index,
					content_block: {
						type: "tool_use",
						id: `toolu_${call.id}`,
						name: call.name,
						input: {},
					},
				}),
			);
			for (const piece of call.argumentPieces) {
				frames.push(
					event(
						"content_block_delta",
						{
							type: "content_block_delta",
							index,
							delta: { type: "input_json_delta", partial_json: piece },
						},
						true,
					),
				);
			}
			frames.push(
				event("content_block_stop", { type: "content_block_stop", index }),
			);
		});
	} else {
		frames.push(
			event("content_block_start", {
				type: "content_block_start",
				index: 0,
				content_block: { type: "text", text: "" },
			}),
			event("ping", { type: "ping" }),
		);
		for (const piece of choice.pieces) {
			frames.push(
				event(
					"content_block_delta",
					{
						type: "content_block_delta",
						index: 0,
						delta: { type: "text_delta", text: piece },
					},
					true,
				),
			);
		}
		frames.push(
			event("content_block_stop", { type: "content_block_stop", index: 0 }),
		);
	}

	frames.push(
		event("message_delta", {
			type: "message_delta",
			delta: { stop_reason: stopReason(choice), stop_sequence: null },
			usage: { output_tokens: plan.usage.completionTokens },
		}),
		event("message_stop", { type: "message_stop" }),
	);
	return frames;
}

function event(name: string, data: Json, token = false): Frame {
	return { data: `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`, token };
}

/** Anthropic error body for a status. */
export function anthropicError(status: number, message: string): Json {
	return {
		type: "error",
		error: { type: anthropicErrorType(status), message },
	};
}

/** The in-stream `error` event. */
export function anthropicStreamError(message: string): string {
	return event("error", anthropicError(529, message)).data as string;
}

function anthropicErrorType(status: number): string {
	if (status === 401) return "authentication_error";
	if (status === 403) return "permission_error";
	if (status === 404) return "not_found_error";
	if (status === 413) return "request_too_large";
	if (status === 429) return "rate_limit_error";
	if (status === 529 || status === 503) return "overloaded_error";
	if (status >= 500) return "api_error";
	return "invalid_request_error";
}
