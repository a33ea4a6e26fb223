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
	cappedTemperature,
	contentText,
	parseDataUrl,
	parseToolArguments,
	requireSingleChoice,
	stopSequences,
	systemTexts,
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

function userBlocks(
	route: CatalogRoute,
	content: ChatMessage["content"],
): ContentBlock[] {
	if (typeof content === "string") {
		return content.length > 0 ? [{ text: content }] : [];
	}
	const blocks: ContentBlock[] = [];
	for (const part of content ?? []) {
		if (part.type === "text") {
			const text = String(part.text);
			if (text.length > 0) blocks.push({ text });
		} else if (part.type === "image_url") {
			blocks.push(
				imageBlock(route, (part as { image_url: { url: string } }).image_url),
			);
		} else {
			throw translationError(
				route,
				`content parts of type "${part.type}" are not supported by the Bedrock Converse API. Send text or image_url parts`,
			);
		}
	}
	return blocks;
}

function imageBlock(route: CatalogRoute, image: { url: string }): ContentBlock {
	const data = parseDataUrl(image.url);
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

function assistantBlocks(
	route: CatalogRoute,
	message: Extract<ChatMessage, { role: "assistant" }>,
): ContentBlock[] {
	const blocks: ContentBlock[] = [];
	const text = contentText(message.content);
	if (text.length > 0) blocks.push({ text });
	for (const call of message.tool_calls ?? []) {
		blocks.push({
			toolUse: {
				toolUseId: call.id,
				name: call.function.name,
				input: parseToolArguments(route, call) as DocumentType,
			},
		});
	}
	return blocks;
}

/**
 * Builds the Converse turns: user, assistant and tool messages become
 * content blocks, and consecutive blocks of one role share a turn, as
 * Converse requires alternating roles. Tool results go first in their turn.
 */
export function toConverseMessages(
	route: CatalogRoute,
	messages: readonly ChatMessage[],
): Message[] {
	const turns: { role: "user" | "assistant"; content: ContentBlock[] }[] = [];
	for (const message of messages) {
		let role: "user" | "assistant";
		let blocks: ContentBlock[];
		if (message.role === "system" || message.role === "developer") continue;
		if (message.role === "assistant") {
			role = "assistant";
			blocks = assistantBlocks(route, message);
		} else if (message.role === "tool") {
			role = "user";
			blocks = [
				{
					toolResult: {
						toolUseId: message.tool_call_id,
						content: [{ text: contentText(message.content) }],
					},
				},
			];
		} else {
			role = "user";
			blocks = userBlocks(route, message.content);
		}
		if (blocks.length === 0) continue;

		const last = turns.at(-1);
		if (last?.role === role) last.content.push(...blocks);
		else turns.push({ role, content: blocks });
	}
	for (const turn of turns) {
		turn.content.sort(
			(a, b) => Number("toolResult" in b) - Number("toolResult" in a),
		);
	}
	return turns;
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
