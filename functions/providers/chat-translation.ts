/**
 * Format-neutral pieces of translating an OpenAI chat request for
 * providers with their own wire format (Anthropic Messages, Bedrock
 * Converse): conversation turns, message text, system prompts, images,
 * tool arguments, temperature and stop sequences.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import type {
	ChatCompletionRequest,
	ChatMessage,
} from "../../shared/schemas/chat.ts";
import { ProviderError } from "./types.ts";

type Json = Record<string, unknown>;

/** Highest `temperature` the Messages and Converse APIs accept. */
const MAX_TEMPERATURE = 1;

/**
 * Creates the client error for a request that the provider's API cannot
 * express. Client errors end fallback, so the caller learns what to change.
 */
export function translationError(
	route: CatalogRoute,
	message: string,
): ProviderError {
	return new ProviderError(
		"client_error",
		`Provider ${route.providerId} cannot take this request: ${message}.`,
		{ status: 400 },
	);
}

/**
 * Rejects `n` above 1, which Anthropic Messages and Bedrock Converse do not
 * support.
 *
 * @throws ProviderError client_error when `n` is above 1.
 */
export function requireSingleChoice(
	route: CatalogRoute,
	request: ChatCompletionRequest,
): void {
	if ((request.n ?? 1) > 1) {
		throw translationError(
			route,
			`n is ${request.n}, but it returns one choice per request. Set n to 1 or omit it`,
		);
	}
}

/** Text of a message's content: the string, or its text parts joined. */
export function contentText(content: ChatMessage["content"]): string {
	if (content === null || content === undefined) return "";
	if (typeof content === "string") return content;
	return content
		.map((part) => {
			if (part.type === "text") return String(part.text);
			if (part.type === "refusal") return String(part.refusal ?? "");
			return "";
		})
		.join("");
}

/**
 * Builders of one wire format's content blocks, which `toTurns` calls for
 * each piece of a conversation.
 */
export interface ContentBlockFormat<Block> {
	/** API name for error messages, such as `Anthropic Messages API`. */
	apiName: string;
	text(text: string): Block;
	/**
	 * Builds an image block from an `image_url` URL.
	 *
	 * @throws ProviderError client_error when the format cannot take the image.
	 */
	image(route: CatalogRoute, url: string): Block;
	toolUse(id: string, name: string, input: Json): Block;
	toolResult(toolCallId: string, text: string): Block;
	isToolResult(block: Block): boolean;
}

/** One turn of a conversation in a wire format with alternating roles. */
export interface Turn<Block> {
	role: "user" | "assistant";
	content: Block[];
}

/**
 * Builds the conversation turns: user, assistant and tool messages become
 * content blocks, and consecutive blocks of one role share a turn, because
 * Messages and Converse require alternating roles. Tool results go first in
 * their turn. System and developer messages are left out, since they go to
 * the system prompt.
 *
 * @throws ProviderError client_error for unsupported content parts, images
 *   the format rejects and tool-call arguments that are not a JSON object.
 */
export function toTurns<Block>(
	route: CatalogRoute,
	messages: readonly ChatMessage[],
	format: ContentBlockFormat<Block>,
): Turn<Block>[] {
	const turns: Turn<Block>[] = [];
	for (const message of messages) {
		let role: Turn<Block>["role"];
		let blocks: Block[];
		if (message.role === "system" || message.role === "developer") continue;
		if (message.role === "assistant") {
			role = "assistant";
			blocks = assistantBlocks(route, message, format);
		} else if (message.role === "tool") {
			role = "user";
			blocks = [
				format.toolResult(message.tool_call_id, contentText(message.content)),
			];
		} else {
			role = "user";
			blocks = userBlocks(route, message.content, format);
		}
		if (blocks.length === 0) continue;

		const last = turns.at(-1);
		if (last?.role === role) last.content.push(...blocks);
		else turns.push({ role, content: blocks });
	}
	for (const turn of turns) {
		turn.content.sort(
			(a, b) => Number(format.isToolResult(b)) - Number(format.isToolResult(a)),
		);
	}
	return turns;
}

function userBlocks<Block>(
	route: CatalogRoute,
	content: ChatMessage["content"],
	format: ContentBlockFormat<Block>,
): Block[] {
	if (typeof content === "string") {
		return content.length > 0 ? [format.text(content)] : [];
	}
	const blocks: Block[] = [];
	for (const part of content ?? []) {
		if (part.type === "text") {
			const text = String(part.text);
			if (text.length > 0) blocks.push(format.text(text));
		} else if (part.type === "image_url") {
			const image = (part as { image_url: { url: string } }).image_url;
			blocks.push(format.image(route, image.url));
		} else {
			throw translationError(
				route,
				`content parts of type "${part.type}" are not supported by the ${format.apiName}. Send text or image_url parts`,
			);
		}
	}
	return blocks;
}

function assistantBlocks<Block>(
	route: CatalogRoute,
	message: Extract<ChatMessage, { role: "assistant" }>,
	format: ContentBlockFormat<Block>,
): Block[] {
	const blocks: Block[] = [];
	const text = contentText(message.content);
	if (text.length > 0) blocks.push(format.text(text));
	for (const call of message.tool_calls ?? []) {
		blocks.push(
			format.toolUse(
				call.id,
				call.function.name,
				parseToolArguments(route, call),
			),
		);
	}
	return blocks;
}

/**
 * System texts of a request: every system and developer message, then an
 * instruction standing in for `response_format`.
 */
export function systemTexts(request: ChatCompletionRequest): string[] {
	const texts = request.messages
		.filter(
			(message) => message.role === "system" || message.role === "developer",
		)
		.map((message) => contentText(message.content))
		.filter((text) => text.length > 0);
	const instruction = responseFormatInstruction(request.response_format);
	if (instruction) texts.push(instruction);
	return texts;
}

function responseFormatInstruction(
	format: ChatCompletionRequest["response_format"],
): string | undefined {
	if (format?.type === "json_object") {
		return "Respond with one valid JSON object and nothing else: no prose and no code fences.";
	}
	if (format?.type === "json_schema") {
		const schema = (format.json_schema as { schema?: unknown } | undefined)
			?.schema;
		return `Respond with one valid JSON value that conforms to this JSON schema, and nothing else: no prose and no code fences.\n${JSON.stringify(schema ?? {})}`;
	}
	return undefined;
}

/**
 * Splits a `data:<media type>;base64,<data>` URL into its media type and
 * base64 data, or returns undefined for any other URL.
 */
export function parseDataUrl(
	url: string,
): { mediaType: string; base64: string } | undefined {
	const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
	if (!match) return undefined;
	return { mediaType: match[1] as string, base64: match[2] as string };
}

/**
 * Parses the JSON arguments of an assistant tool call.
 *
 * @throws ProviderError client_error when they are not a JSON object.
 */
export function parseToolArguments(
	route: CatalogRoute,
	call: { id: string; function: { arguments: string } },
): Json {
	let input: unknown;
	try {
		input = JSON.parse(call.function.arguments || "{}");
	} catch {
		input = undefined;
	}
	if (!input || typeof input !== "object" || Array.isArray(input)) {
		throw translationError(
			route,
			`the arguments of tool call ${call.id} are not a JSON object. Send tool call arguments as a JSON object string`,
		);
	}
	return input as Json;
}

/** Caps `temperature` at 1, the Messages and Converse maximum. */
export function cappedTemperature(
	temperature: number | null | undefined,
): number | undefined {
	if (temperature === null || temperature === undefined) return undefined;
	return Math.min(temperature, MAX_TEMPERATURE);
}

/** Converts `stop` to a list of stop sequences, or undefined for none. */
export function stopSequences(
	stop: ChatCompletionRequest["stop"],
): string[] | undefined {
	if (stop === null || stop === undefined) return undefined;
	const list = typeof stop === "string" ? [stop] : stop;
	return list.length > 0 ? list : undefined;
}
