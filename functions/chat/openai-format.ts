/**
 * OpenAI chat completion shapes built from normalized provider events: the
 * streamed chunks, the usage object with `cost`, and the non-streamed
 * completion assembled from the same events, so both forms always agree.
 */
import { microUsdToUsd } from "../../shared/money.ts";
import type { TokenUsage } from "../../shared/pricing.ts";
import type { ProviderEvent, ToolCallDelta } from "../providers/types.ts";

export interface CompletionMeta {
	id: string;
	/** Unix time in seconds. */
	created: number;
	/** The model id the client asked for. */
	model: string;
}

export interface UsageObject {
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
	prompt_tokens_details: { cached_tokens: number };
	completion_tokens_details: { reasoning_tokens: number };
	/** Customer charge in USD, as OpenRouter reports it. */
	cost: number;
}

/** Builds the usage object returned to clients, charge included. */
export function usageObject(
	usage: TokenUsage,
	chargeMicroUsd: number,
): UsageObject {
	return {
		prompt_tokens: usage.promptTokens,
		completion_tokens: usage.completionTokens,
		total_tokens: usage.promptTokens + usage.completionTokens,
		prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
		completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
		cost: microUsdToUsd(chargeMicroUsd),
	};
}

function chunk(
	meta: CompletionMeta,
	choices: unknown[],
	usage?: UsageObject,
): string {
	return JSON.stringify({
		id: meta.id,
		object: "chat.completion.chunk",
		created: meta.created,
		model: meta.model,
		system_fingerprint: null,
		choices,
		...(usage ? { usage } : {}),
	});
}

/** First chunk of each choice: the assistant role with empty content. */
export function roleChunk(meta: CompletionMeta, choiceCount: number): string {
	return chunk(
		meta,
		Array.from({ length: choiceCount }, (_, index) => ({
			index,
			delta: { role: "assistant", content: "" },
			logprobs: null,
			finish_reason: null,
		})),
	);
}

/** Chunk for one content, tool-call or finish event; undefined for usage. */
export function eventChunk(
	meta: CompletionMeta,
	event: ProviderEvent,
): string | undefined {
	if (event.type === "delta") {
		const delta: Record<string, unknown> = {};
		if (event.content !== undefined) delta.content = event.content;
		if (event.refusal !== undefined) delta.refusal = event.refusal;
		if (event.toolCalls) delta.tool_calls = event.toolCalls;
		return chunk(meta, [
			{ index: event.index, delta, logprobs: null, finish_reason: null },
		]);
	}
	if (event.type === "finish") {
		return chunk(meta, [
			{
				index: event.index,
				delta: {},
				logprobs: null,
				finish_reason: event.finishReason,
			},
		]);
	}
	return undefined;
}

/** Final usage chunk: no choices, the usage object. */
export function usageChunk(meta: CompletionMeta, usage: UsageObject): string {
	return chunk(meta, [], usage);
}

interface ChoiceState {
	content: string;
	refusal: string;
	toolCalls: Map<
		number,
		{
			id: string;
			type: "function";
			function: { name: string; arguments: string };
		}
	>;
	finishReason: string | null;
}

/**
 * Collects normalized events into a non-streamed completion, and counts
 * delivered text for estimates when a stream is cut short.
 */
export class CompletionAccumulator {
	private readonly choices = new Map<number, ChoiceState>();
	/** Provider-reported usage, when it arrived. */
	usage: TokenUsage | undefined;
	/** Content, refusal and tool-call events seen. */
	deltaCount = 0;

	add(event: ProviderEvent): void {
		if (event.type === "usage") {
			this.usage = event.usage;
			return;
		}
		const choice = this.choice(event.index);
		if (event.type === "finish") {
			choice.finishReason = event.finishReason;
			return;
		}
		this.deltaCount++;
		if (event.content) choice.content += event.content;
		if (event.refusal) choice.refusal += event.refusal;
		for (const call of event.toolCalls ?? []) this.addToolCall(choice, call);
	}

	/** Returns all delivered text, for estimating tokens when usage is missing. */
	deliveredText(): string {
		let text = "";
		for (const choice of this.choices.values()) {
			text += choice.content + choice.refusal;
			for (const call of choice.toolCalls.values()) {
				text += call.function.name + call.function.arguments;
			}
		}
		return text;
	}

	/** Number of choices that reported a finish reason. */
	finishedChoices(): number {
		let count = 0;
		for (const choice of this.choices.values())
			if (choice.finishReason) count++;
		return count;
	}

	/** The `chat.completion` object, as OpenAI returns it without streaming. */
	toCompletion(
		meta: CompletionMeta,
		usage: UsageObject,
	): Record<string, unknown> {
		const indexes = [...this.choices.keys()].sort((a, b) => a - b);
		return {
			id: meta.id,
			object: "chat.completion",
			created: meta.created,
			model: meta.model,
			system_fingerprint: null,
			choices: indexes.map((index) => {
				const choice = this.choices.get(index) as ChoiceState;
				const toolCalls = [...choice.toolCalls.entries()]
					.sort(([a], [b]) => a - b)
					.map(([, call]) => call);
				return {
					index,
					message: {
						role: "assistant",
						content:
							choice.content === "" && toolCalls.length > 0
								? null
								: choice.content,
						refusal: choice.refusal === "" ? null : choice.refusal,
						...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
					},
					logprobs: null,
					finish_reason: choice.finishReason ?? "stop",
				};
			}),
			usage,
		};
	}

	private choice(index: number): ChoiceState {
		let choice = this.choices.get(index);
		if (!choice) {
			choice = {
				content: "",
				refusal: "",
				toolCalls: new Map(),
				finishReason: null,
			};
			this.choices.set(index, choice);
		}
		return choice;
	}

	private addToolCall(choice: ChoiceState, delta: ToolCallDelta): void {
		let call = choice.toolCalls.get(delta.index);
		if (!call) {
			call = {
				id: "",
				type: "function",
				function: { name: "", arguments: "" },
			};
			choice.toolCalls.set(delta.index, call);
		}
		if (delta.id) call.id = delta.id;
		if (delta.function?.name) call.function.name += delta.function.name;
		if (delta.function?.arguments)
			call.function.arguments += delta.function.arguments;
	}
}
