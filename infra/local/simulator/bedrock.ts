/**
 * Amazon Bedrock Converse wire format: request parsing, the buffered Converse
 * body, and ConverseStream events in the binary
 * `application/vnd.amazon.eventstream` framing (messageStart,
 * contentBlockStart for tool use, contentBlockDelta, contentBlockStop,
 * messageStop, metadata).
 *
 * Usage follows Bedrock's split: `inputTokens` excludes the prompt tokens read
 * from the cache, which are reported as `cacheReadInputTokens`.
 */
import {
	EventStreamCodec,
	type MessageHeaders,
} from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
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

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface BedrockParsed {
	messages: SimulatedMessage[];
	tools: SimulatedTool[];
	toolChoice: ToolChoice;
	maxTokens?: number;
}

/** Validates and normalizes a Converse request body. */
export function parseBedrockRequest(body: unknown): BedrockParsed {
	if (!body || typeof body !== "object" || Array.isArray(body)) {
		throw new SimulatedRequestError("The request body must be a JSON object.");
	}
	const raw = body as Json;
	if (!Array.isArray(raw.messages) || raw.messages.length === 0) {
		throw new SimulatedRequestError(
			"1 validation error detected: Value at 'messages' failed to satisfy constraint: Member must have length greater than or equal to 1",
			"messages",
		);
	}

	const messages: SimulatedMessage[] = [];
	const system = blocksText(raw.system);
	if (system.length > 0) messages.push({ role: "system", text: system });
	for (const message of raw.messages as Json[]) {
		const blocks = Array.isArray(message.content)
			? (message.content as Json[])
			: [];
		const onlyToolResults =
			blocks.length > 0 && blocks.every((block) => "toolResult" in block);
		messages.push({
			role: onlyToolResults ? "tool" : String(message.role),
			text: blocksText(blocks),
		});
	}

	const inference = (raw.inferenceConfig ?? {}) as Json;
	const maxTokens = inference.maxTokens;
	if (
		maxTokens !== undefined &&
		(!Number.isSafeInteger(maxTokens) || (maxTokens as number) < 1)
	) {
		throw new SimulatedRequestError(
			"inferenceConfig.maxTokens must be a positive integer.",
			"inferenceConfig.maxTokens",
		);
	}
	const toolConfig = (raw.toolConfig ?? {}) as Json;

	return {
		messages,
		tools: parseTools(toolConfig.tools),
		toolChoice: parseToolChoice(toolConfig.toolChoice),
		maxTokens: maxTokens as number | undefined,
	};
}

function blocksText(content: unknown): string {
	if (!Array.isArray(content)) return "";
	return (content as Json[])
		.map((block) => {
			if (typeof block.text === "string") return block.text;
			const toolUse = block.toolUse as Json | undefined;
			if (toolUse)
				return `${toolUse.name} ${JSON.stringify(toolUse.input ?? {})}`;
			const toolResult = block.toolResult as Json | undefined;
			if (toolResult) return blocksText(toolResult.content);
			if (block.json !== undefined) return JSON.stringify(block.json);
			return "";
		})
		.filter((text) => text.length > 0)
		.join("\n");
}

function parseTools(tools: unknown): SimulatedTool[] {
	if (!Array.isArray(tools)) return [];
	return (tools as Json[]).map((tool, index) => {
		const spec = tool.toolSpec as Json | undefined;
		if (!spec || typeof spec.name !== "string") {
			throw new SimulatedRequestError(
				`toolConfig.tools.${index}.toolSpec.name is required.`,
				"toolConfig.tools",
			);
		}
		return {
			name: spec.name,
			description: typeof spec.description === "string" ? spec.description : "",
			parameters: ((spec.inputSchema ?? {}) as Json).json ?? {},
		};
	});
}

function parseToolChoice(choice: unknown): ToolChoice {
	const raw = (choice ?? {}) as Json;
	if (raw.any) return { type: "required" };
	const tool = raw.tool as Json | undefined;
	if (tool && typeof tool.name === "string") {
		return { type: "tool", name: tool.name };
	}
	return { type: "auto" };
}

/** Bedrock usage: input excludes cache reads. */
export function bedrockUsage(usage: PlannedUsage): Json {
	const inputTokens = usage.promptTokens - usage.cachedTokens;
	return {
		inputTokens,
		outputTokens: usage.completionTokens,
		totalTokens: inputTokens + usage.completionTokens + usage.cachedTokens,
		cacheReadInputTokens: usage.cachedTokens,
		cacheWriteInputTokens: 0,
	};
}

function stopReason(choice: PlannedChoice): string {
	if (choice.finishReason === "tool_calls") return "tool_use";
	if (choice.finishReason === "length") return "max_tokens";
	return "end_turn";
}

/** The buffered Converse body. */
export function bedrockConverse(plan: CompletionPlan, latencyMs: number): Json {
	const choice = plan.choices[0] as PlannedChoice;
	const content =
		choice.toolCalls.length > 0
			? choice.toolCalls.map((call) => ({
					toolUse: {
						toolUseId: `tooluse_${call.id}`,
						name: call.name,
						input: JSON.parse(call.arguments),
					},
				}))
			: [{ text: choice.pieces.join("") }];
	return {
		output: { message: { role: "assistant", content } },
		stopReason: stopReason(choice),
		usage: bedrockUsage(plan.usage),
		metrics: { latencyMs: Math.round(latencyMs) },
	};
}

/** ConverseStream events, each one binary event-stream message. */
export function bedrockFrames(
	plan: CompletionPlan,
	latencyMs: number,
): Frame[] {
	const choice = plan.choices[0] as PlannedChoice;
	const frames: Frame[] = [event("messageStart", { role: "assistant" })];

	if (choice.toolCalls.length > 0) {
		choice.toolCalls.forEach((call, contentBlockIndex) => {
			frames.push(
				event("contentBlockStart", {
					contentBlockIndex,
					start: {
						toolUse: { toolUseId: `tooluse_${call.id}`, name: call.name },
					},
				}),
			);
			for (const piece of call.argumentPieces) {
				frames.push(
					event(
						"contentBlockDelta",
						{ contentBlockIndex, delta: { toolUse: { input: piece } } },
						true,
					),
				);
			}
			frames.push(event("contentBlockStop", { contentBlockIndex }));
		});
	} else {
		for (const piece of choice.pieces) {
			frames.push(
				event(
					"contentBlockDelta",
					{ contentBlockIndex: 0, delta: { text: piece } },
					true,
				),
			);
		}
		frames.push(event("contentBlockStop", { contentBlockIndex: 0 }));
	}

	frames.push(
		event("messageStop", { stopReason: stopReason(choice) }),
		event("metadata", {
			usage: bedrockUsage(plan.usage),
			metrics: { latencyMs: Math.round(latencyMs) },
		}),
	);
	return frames;
}

function event(eventType: string, body: Json, token = false): Frame {
	const headers: MessageHeaders = {
		":event-type": { type: "string", value: eventType },
		":content-type": { type: "string", value: "application/json" },
		":message-type": { type: "string", value: "event" },
	};
	return {
		data: codec.encode({ headers, body: fromUtf8(JSON.stringify(body)) }),
		token,
	};
}

/** Error type Bedrock names in `x-amzn-errortype` for a status. */
export function bedrockErrorType(status: number): string {
	if (status === 400) return "ValidationException";
	if (status === 401 || status === 403) return "AccessDeniedException";
	if (status === 404) return "ResourceNotFoundException";
	if (status === 408) return "ModelTimeoutException";
	if (status === 424) return "ModelErrorException";
	if (status === 429) return "ThrottlingException";
	if (status === 503) return "ServiceUnavailableException";
	return "InternalServerException";
}

/** The in-stream exception message that ends a failed ConverseStream. */
export function bedrockStreamError(message: string): Uint8Array {
	const headers: MessageHeaders = {
		":exception-type": { type: "string", value: "modelStreamErrorException" },
		":content-type": { type: "string", value: "application/json" },
		":message-type": { type: "string", value: "exception" },
	};
	return codec.encode({ headers, body: fromUtf8(JSON.stringify({ message })) });
}
