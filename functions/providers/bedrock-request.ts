/**
 * Translation of an OpenAI chat request to a Bedrock ConverseStream input:
 * system texts and the `response_format` instruction go to `system`,
 * messages of one role merge into one turn, tools become a tool
 * configuration, and images must be base64 data URLs.
 */
import type {
	ContentBlock,
	ConverseStreamCommandInput,
	ImageFormat,
	Message,
	SystemContentBlock,
	ToolConfiguration,
	ToolUseBlock,
} from "@aws-sdk/client-bedrock-runtime";
import type { CatalogRoute } from "../../shared/catalog.ts";
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

/** The SDK's JSON document type, for tool inputs and schemas. */
type DocumentType = NonNullable<ToolUseBlock["input"]>;

const IMAGE_FORMATS: Record<string, ImageFormat> = {
	"image/png": "png",
	"image/jpeg": "jpeg",
	"image/jpg": "jpeg",
	"image/gif": "gif",
	"image/webp": "webp",
};

function imageBlock(route: CatalogRoute, url: string): ContentBlock {
	const data = parseDataUrl(url);
	const format = data ? IMAGE_FORMATS[data.mediaType.toLowerCase()] : undefined;
	if (!data || !format) {
		throw translationError(
			route,
			"the Bedrock Converse API takes images only as base64 data URLs of PNG, JPEG, GIF or WebP images. Send the image as data:image/png;base64,... instead of a link",
		);
	}
	return {
		image: { format, source: { bytes: Buffer.from(data.base64, "base64") } },
	};
}

const converseBlocks: ContentBlockFormat<ContentBlock> = {
	apiName: "Bedrock Converse API",
	text: (text) => ({ text }),
	image: imageBlock,
	toolUse: (id, name, input) => ({
		toolUse: { toolUseId: id, name, input: input as DocumentType },
	}),
	toolResult: (toolCallId, text) => ({
		toolResult: { toolUseId: toolCallId, content: [{ text }] },
	}),
	isToolResult: (block) => "toolResult" in block,
};

/**
 * Builds the Converse turns, with tool results first in their user turn.
 * Converse requires alternating roles.
 */
export function toConverseMessages(
	route: CatalogRoute,
	messages: readonly ChatMessage[],
): Message[] {
	return toTurns(route, messages, converseBlocks);
}

function hasToolBlocks(messages: readonly Message[]): boolean {
	return messages.some((message) =>
		(message.content ?? []).some(
			(block) => "toolUse" in block || "toolResult" in block,
		),
	);
}

/**
 * Builds `toolConfig` from `tools` and `tool_choice`. Converse has no
 * `none` choice, so `none` sends no tools at all, unless the conversation
 * already contains tool blocks, which Converse accepts only with a toolConfig.
 */
function toolConfiguration(
	request: ChatCompletionRequest,
	messages: readonly Message[],
): ToolConfiguration | undefined {
	const tools = request.tools ?? [];
	if (tools.length === 0) return undefined;
	const choice = request.tool_choice;
	if (choice === "none" && !hasToolBlocks(messages)) return undefined;

	const config: ToolConfiguration = {
		tools: tools.map((tool) => ({
			toolSpec: {
				name: tool.function.name,
				...(tool.function.description
					? { description: tool.function.description }
					: {}),
				inputSchema: {
					json: (tool.function.parameters ?? {
						type: "object",
						properties: {},
					}) as DocumentType,
				},
			},
		})),
	};
	// NOTE: with `none` and tool blocks in the history the model may still
	// call a tool, because Converse has no way to forbid it.
	if (choice === "required") config.toolChoice = { any: {} };
	else if (typeof choice === "object") {
		config.toolChoice = { tool: { name: choice.function.name } };
	}
	return config;
}

/**
 * Translates an OpenAI chat request to a ConverseStream input.
 *
 * @throws ProviderError client_error for `n` above 1, images that are not
 *   data URLs, unsupported content parts and tool-call arguments that are
 *   not a JSON object.
 */
export function toConverseStreamInput(
	route: CatalogRoute,
	request: ChatCompletionRequest,
	maxOutputTokens: number,
): ConverseStreamCommandInput {
	requireSingleChoice(route, request);
	const messages = toConverseMessages(route, request.messages);
	const input: ConverseStreamCommandInput = {
		modelId: route.upstreamModel ?? route.model,
		messages,
		inferenceConfig: { maxTokens: maxOutputTokens },
	};

	const system: SystemContentBlock[] = systemTexts(request).map((text) => ({
		text,
	}));
	if (system.length > 0) input.system = system;
	const inference = input.inferenceConfig as NonNullable<
		ConverseStreamCommandInput["inferenceConfig"]
	>;
	const temperature = cappedTemperature(request.temperature);
	if (temperature !== undefined) inference.temperature = temperature;
	if (request.top_p !== null && request.top_p !== undefined) {
		inference.topP = request.top_p;
	}
	const stop = stopSequences(request.stop);
	if (stop) inference.stopSequences = stop;

	const toolConfig = toolConfiguration(request, messages);
	if (toolConfig) input.toolConfig = toolConfig;
	return input;
}
