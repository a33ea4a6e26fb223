/**
 * OpenAI Chat Completions wire format: request parsing, the buffered
 * `chat.completion` body, and SSE frames of `chat.completion.chunk`.
 */

import {
	type CompletionPlan,
	type PlannedUsage,
	type ResponseFormat,
	type SimulatedMessage,
	SimulatedRequestError,
	type SimulatedTool,
	type ToolChoice,
} from "./completion.ts";
import type { Frame } from "./http.ts";

export interface OpenAIParsed {
	model: string;
	messages: SimulatedMessage[];
	tools: SimulatedTool[];
	toolChoice: ToolChoice;
	maxTokens?: number;
	choiceCount: number;
	responseFormat: ResponseFormat;
	stream: boolean;
	includeUsage: boolean;
}

type Json = Record<string, unknown>;

/** Validates and normalizes a Chat Completions request body. */
export function parseOpenAIRequest(body: unknown): OpenAIParsed {
	if (!body || typeof body !== "object" || Array.isArray(body)) {
		throw new SimulatedRequestError("The request body must be a JSON object.");
	}
	const raw = body as Json;
	if (typeof raw.model !== "string" || raw.model.length === 0) {
		throw new SimulatedRequestError("model is required.", "model");
	}
	if (!Array.isArray(raw.messages) || raw.messages.length === 0) {
		throw new SimulatedRequestError(
			"messages must be a non-empty array.",
			"messages",
		);
	}

	const maxTokens = optionalCount(
		raw.max_completion_tokens ?? raw.max_tokens,
		raw.max_completion_tokens === undefined
			? "max_tokens"
			: "max_completion_tokens",
	);
	const choiceCount = optionalCount(raw.n, "n") ?? 1;
	if (choiceCount < 1 || choiceCount > 128) {
		throw new SimulatedRequestError("n must be between 1 and 128.", "n");
	}
	const streamOptions = (raw.stream_options ?? {}) as Json;

	return {
		model: raw.model,
		messages: raw.messages.map((message, index) =>
			normalizeMessage(message, index),
		),
		tools: parseTools(raw.tools),
		toolChoice: parseToolChoice(raw.tool_choice),
		maxTokens,
		choiceCount,
		responseFormat: parseResponseFormat(raw.response_format),
		stream: raw.stream === true,
		includeUsage: streamOptions.include_usage === true,
	};
}

function optionalCount(value: unknown, param: string): number | undefined {
	if (value === undefined || value === null) return undefined;
	if (!Number.isSafeInteger(value) || (value as number) < 1) {
		throw new SimulatedRequestError(
			`${param} must be a positive integer, got ${JSON.stringify(value)}.`,
			param,
		);
	}
	return value as number;
}

function normalizeMessage(message: unknown, index: number): SimulatedMessage {
	const raw = (message ?? {}) as Json;
	if (typeof raw.role !== "string") {
		throw new SimulatedRequestError(
			`messages[${index}].role is required.`,
			`messages[${index}].role`,
		);
	}
	const role = raw.role === "developer" ? "system" : raw.role;
	const parts: string[] = [contentText(raw.content)];
	if (Array.isArray(raw.tool_calls)) {
		for (const call of raw.tool_calls as Json[]) {
			const fn = (call.function ?? {}) as Json;
			parts.push(`${fn.name ?? ""} ${fn.arguments ?? ""}`);
		}
	}
	return { role, text: parts.filter((part) => part.length > 0).join("\n") };
}

function contentText(content: unknown): string {
	if (typeof content === "string") return content;
	if (!Array.isArray(content)) return "";
	return content
		.map((part) => {
			const raw = (part ?? {}) as Json;
			return raw.type === "text" && typeof raw.text === "string"
				? raw.text
				: "";
		})
		.filter((text) => text.length > 0)
		.join("\n");
}

function parseTools(tools: unknown): SimulatedTool[] {
	if (!Array.isArray(tools)) return [];
	return tools.map((tool, index) => {
		const fn = ((tool ?? {}) as Json).function as Json | undefined;
		if (!fn || typeof fn.name !== "string") {
			throw new SimulatedRequestError(
				`tools[${index}].function.name is required.`,
				`tools[${index}].function.name`,
			);
		}
		return {
			name: fn.name,
			description: typeof fn.description === "string" ? fn.description : "",
			parameters: fn.parameters ?? {},
		};
	});
}

function parseToolChoice(choice: unknown): ToolChoice {
	if (choice === "none" || choice === "required" || choice === "auto") {
		return { type: choice };
	}
	const fn = ((choice ?? {}) as Json).function as Json | undefined;
	if (fn && typeof fn.name === "string") return { type: "tool", name: fn.name };
	return { type: "auto" };
}

function parseResponseFormat(format: unknown): ResponseFormat {
	const raw = (format ?? {}) as Json;
	if (raw.type === "json_object") return { type: "json_object" };
	if (raw.type === "json_schema") {
		const schema = ((raw.json_schema ?? {}) as Json).schema;
		return { type: "json_schema", schema };
	}
	return { type: "text" };
}

/** OpenAI usage object, with the cached and reasoning token details. */
export function openAIUsage(usage: PlannedUsage): Json {
	return {
		prompt_tokens: usage.promptTokens,
		completion_tokens: usage.completionTokens,
		total_tokens: usage.totalTokens,
		prompt_tokens_details: {
			cached_tokens: usage.cachedTokens,
			audio_tokens: 0,
		},
		completion_tokens_details: {
			reasoning_tokens: usage.reasoningTokens,
			audio_tokens: 0,
			accepted_prediction_tokens: 0,
			rejected_prediction_tokens: 0,
		},
	};
}

export interface ResponseMeta {
	id: string;
	created: number;
	model: string;
}

/** The buffered `chat.completion` body. */
export function openAICompletion(
	plan: CompletionPlan,
	meta: ResponseMeta,
): Json {
	return {
		id: meta.id,
		object: "chat.completion",
		created: meta.created,
		model: meta.model,
		system_fingerprint: "fp_simulator",
		choices: plan.choices.map((choice, index) => ({
			index,
			message: {
				role: "assistant",
				content: choice.toolCalls.length > 0 ? null : choice.pieces.join(""),
				refusal: null,
				...(choice.toolCalls.length > 0
					? {
							tool_calls: choice.toolCalls.map((call) => ({
								id: `call_${call.id}`,
								type: "function",
								function: { name: call.name, arguments: call.arguments },
							})),
						}
					: {}),
			},
			logprobs: null,
			finish_reason: choice.finishReason,
		})),
		usage: openAIUsage(plan.usage),
	};
}

/**
 * SSE frames of a streamed completion: a role delta per choice, content or
 * tool-call deltas interleaved across choices, a finish chunk per choice, a
 * usage chunk when `include_usage` is set, then `[DONE]`.
 */
export function openAIFrames(
	plan: CompletionPlan,
	meta: ResponseMeta,
	includeUsage: boolean,
): Frame[] {
	const base = {
		id: meta.id,
		object: "chat.completion.chunk",
		created: meta.created,
		model: meta.model,
		system_fingerprint: "fp_simulator",
	};
	const chunk = (choices: Json[], token = false): Frame => ({
		data: sse({ ...base, choices, ...(includeUsage ? { usage: null } : {}) }),
		token,
	});
	const frames: Frame[] = [];

	plan.choices.forEach((choice, index) => {
		const content = choice.toolCalls.length > 0 ? null : "";
		frames.push(chunk([delta(index, { role: "assistant", content })]));
	});

	const steps = plan.choices.map(choiceSteps);
	const longest = Math.max(0, ...steps.map((list) => list.length));
	for (let step = 0; step < longest; step++) {
		plan.choices.forEach((_choice, index) => {
			const stepDelta = steps[index]?.[step];
			if (stepDelta) frames.push(chunk([delta(index, stepDelta)], true));
		});
	}

	plan.choices.forEach((choice, index) => {
		frames.push(chunk([delta(index, {}, choice.finishReason)]));
	});
	if (includeUsage) {
		frames.push({
			data: sse({ ...base, choices: [], usage: openAIUsage(plan.usage) }),
			token: false,
		});
	}
	frames.push({ data: "data: [DONE]\n\n", token: false });
	return frames;
}

function choiceSteps(choice: CompletionPlan["choices"][number]): Json[] {
	if (choice.toolCalls.length === 0) {
		return choice.pieces.map((piece) => ({ content: piece }));
	}
	const steps: Json[] = [];
	choice.toolCalls.forEach((call, index) => {
		steps.push({
			tool_calls: [
				{
					index,
					id: `call_${call.id}`,
					type: "function",
					function: { name: call.name, arguments: "" },
				},
			],
		});
		for (const piece of call.argumentPieces) {
			steps.push({ tool_calls: [{ index, function: { arguments: piece } }] });
		}
	});
	return steps;
}

function delta(index: number, body: Json, finishReason: string | null = null) {
	return { index, delta: body, logprobs: null, finish_reason: finishReason };
}

function sse(payload: unknown): string {
	return `data: ${JSON.stringify(payload)}\n\n`;
}

/** OpenAI error body for a status. */
export function openAIError(
	status: number,
	message: string,
	param: string | null = null,
): Json {
	return {
		error: {
			message,
			type: openAIErrorType(status),
			param,
			code: openAIErrorCode(status),
		},
	};
}

/** The in-stream error frame OpenAI sends when a stream fails. */
export function openAIStreamError(message: string): string {
	return sse({
		error: { message, type: "server_error", param: null, code: null },
	});
}

function openAIErrorType(status: number): string {
	if (status === 401) return "authentication_error";
	if (status === 403) return "permission_error";
	if (status === 404) return "not_found_error";
	if (status === 429) return "rate_limit_error";
	if (status >= 500) return "server_error";
	return "invalid_request_error";
}

function openAIErrorCode(status: number): string | null {
	if (status === 401) return "invalid_api_key";
	if (status === 429) return "rate_limit_exceeded";
	return null;
}
