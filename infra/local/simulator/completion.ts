/**
 * The simulator's deterministic model. All three wire formats normalize their
 * request into a {@link SimulatedRequest}, and {@link planCompletion} turns it
 * into the same tokens, tool calls and usage, so one conversation gets the
 * same counts whichever format carried it.
 *
 * Token-count rules:
 * - Prompt tokens: Σ over messages (system included) of
 *   `4 + ceil(utf8 bytes of the message text / 4)`, plus
 *   `ceil(utf8 bytes of JSON.stringify(tools) / 4)` when tools are given.
 * - Output text: `Echo:` followed by the words of the last message (directives
 *   removed), then a fixed lorem sequence, repeating, until the target count.
 *   Each word is one token; every token after the first carries a leading
 *   space. The target is `completionTokens` from the behaviour, or else the
 *   length of the echo.
 * - `max_tokens` caps reasoning plus emitted tokens; a cut gives the
 *   finish reason `length`.
 * - Completion tokens: emitted tokens plus reasoning tokens, summed over
 *   choices. Reasoning tokens are only counted, never emitted.
 * - Cached prompt tokens: `cachedTokens` from the behaviour, capped at the
 *   prompt tokens (`"all"` means all of them).
 * - Tool calls: each argument piece (at most 8 characters of the arguments
 *   JSON) is one token, and `max_tokens` does not cut them.
 *
 * Tool-call rule: when tools are given and `tool_choice` is not `none`, the
 * model calls a tool if `tool_choice` names it, or if the last message is the
 * user's and contains `call <name>` for a given tool (every such tool is
 * called, in order of mention), or if `tool_choice` is `required` (the first
 * tool). Arguments are built from the tool's JSON schema: strings become
 * `"<property>-1"`, enums their first value, numbers and integers 1,
 * booleans true, arrays [] and objects {}.
 */
import { createHash } from "node:crypto";

/** Per-request behaviour; see the directives in {@link parseDirectives}. */
export interface Behaviour {
	/** Exact number of tokens to emit, before `max_tokens` cuts it. */
	completionTokens?: number;
	/** Prompt tokens to report as read from the prompt cache, or `"all"`. */
	cachedTokens?: number | "all";
	/** Reasoning tokens to report (counted in completion tokens). */
	reasoningTokens?: number;
	/** Delay before the first token, in ms. */
	firstTokenLatencyMs?: number;
	/** Pace of emitted tokens; 0 or absent sends them without delay. */
	tokensPerSecond?: number;
}

export interface SimulatedMessage {
	/** `system`, `user`, `assistant`, or `tool` for tool results. */
	role: string;
	text: string;
}

export interface SimulatedTool {
	name: string;
	description?: string;
	/** JSON schema of the arguments. */
	parameters?: unknown;
}

export type ToolChoice =
	| { type: "auto" | "none" | "required" }
	| { type: "tool"; name: string };

export type ResponseFormat =
	| { type: "text" }
	| { type: "json_object" }
	| { type: "json_schema"; schema: unknown };

/** A request in the form shared by every wire format. */
export interface SimulatedRequest {
	model: string;
	messages: SimulatedMessage[];
	tools: SimulatedTool[];
	toolChoice: ToolChoice;
	maxTokens?: number;
	choiceCount: number;
	responseFormat: ResponseFormat;
	behaviour: Behaviour;
}

export interface PlannedToolCall {
	id: string;
	name: string;
	arguments: string;
	argumentPieces: string[];
}

export interface PlannedChoice {
	/** Text tokens in emission order; empty when the choice calls tools. */
	pieces: string[];
	toolCalls: PlannedToolCall[];
	finishReason: "stop" | "length" | "tool_calls";
}

export interface PlannedUsage {
	promptTokens: number;
	cachedTokens: number;
	completionTokens: number;
	reasoningTokens: number;
	totalTokens: number;
}

export interface CompletionPlan {
	choices: PlannedChoice[];
	usage: PlannedUsage;
}

/** Words that pad the output after the echo, repeated as needed. */
export const LOREM = [
	"lorem",
	"ipsum",
	"dolor",
	"sit",
	"amet",
	"consectetur",
	"adipiscing",
	"elit",
	"sed",
	"do",
	"eiusmod",
	"tempor",
	"incididunt",
	"ut",
	"labore",
	"et",
	"dolore",
	"magna",
	"aliqua",
] as const;

const DIRECTIVE = /\[sim\s+([^\]]*)\]/g;
const ARGUMENT_PIECE_CHARS = 8;

/** Thrown for a request the simulated model rejects with a 400. */
export class SimulatedRequestError extends Error {
	readonly param: string | null;

	constructor(message: string, param: string | null = null) {
		super(message);
		this.name = "SimulatedRequestError";
		this.param = param;
	}
}

/**
 * Reads `[sim key=value ...]` directives from message text. Keys: `tokens`
 * (completionTokens), `cached` (a number or `all`), `reasoning`, `ttft` (ms)
 * and `tps`. They let a test steer the simulator through a gateway that
 * forwards only the message body.
 */
export function parseDirectives(text: string): Behaviour {
	const behaviour: Behaviour = {};
	for (const match of text.matchAll(DIRECTIVE)) {
		for (const pair of (match[1] ?? "").split(/\s+/)) {
			const [key, value] = pair.split("=");
			if (!key || value === undefined) continue;
			applyBehaviourSetting(behaviour, key, value);
		}
	}
	return behaviour;
}

/** Applies one named setting, as used by directives and request headers. */
export function applyBehaviourSetting(
	behaviour: Behaviour,
	key: string,
	value: string,
): void {
	const count = Number(value);
	const valid = Number.isSafeInteger(count) && count >= 0;
	switch (key) {
		case "tokens":
			if (valid) behaviour.completionTokens = count;
			break;
		case "cached":
			if (value === "all") behaviour.cachedTokens = "all";
			else if (valid) behaviour.cachedTokens = count;
			break;
		case "reasoning":
			if (valid) behaviour.reasoningTokens = count;
			break;
		case "ttft":
			if (valid) behaviour.firstTokenLatencyMs = count;
			break;
		case "tps":
			if (valid) behaviour.tokensPerSecond = count;
			break;
	}
}

/** Counts prompt tokens by the rule in the module header. */
export function countPromptTokens(
	messages: SimulatedMessage[],
	tools: SimulatedTool[],
): number {
	let tokens = 0;
	for (const message of messages) {
		tokens += 4 + Math.ceil(Buffer.byteLength(message.text, "utf8") / 4);
	}
	if (tools.length > 0) {
		tokens += Math.ceil(Buffer.byteLength(JSON.stringify(tools), "utf8") / 4);
	}
	return tokens;
}

/** Builds the deterministic response for a request. */
export function planCompletion(request: SimulatedRequest): CompletionPlan {
	const promptTokens = countPromptTokens(request.messages, request.tools);
	const reasoningTokens = request.behaviour.reasoningTokens ?? 0;
	const toolCalls = chooseToolCalls(request);

	const choices: PlannedChoice[] = [];
	for (let index = 0; index < request.choiceCount; index++) {
		choices.push(
			toolCalls.length > 0
				? { pieces: [], toolCalls, finishReason: "tool_calls" }
				: planText(request, reasoningTokens),
		);
	}

	let completionTokens = 0;
	for (const choice of choices) {
		completionTokens += reasoningTokens + choice.pieces.length;
		for (const call of choice.toolCalls) {
			completionTokens += call.argumentPieces.length;
		}
	}
	const cachedSetting = request.behaviour.cachedTokens ?? 0;
	const cachedTokens =
		cachedSetting === "all"
			? promptTokens
			: Math.min(cachedSetting, promptTokens);

	return {
		choices,
		usage: {
			promptTokens,
			cachedTokens,
			completionTokens,
			reasoningTokens: reasoningTokens * choices.length,
			totalTokens: promptTokens + completionTokens,
		},
	};
}

function planText(
	request: SimulatedRequest,
	reasoningTokens: number,
): PlannedChoice {
	const format = request.responseFormat;
	if (format.type === "json_schema") {
		const text = JSON.stringify(valueForSchema(format.schema, "value"));
		return cutPieces(splitPieces(text), request.maxTokens, reasoningTokens);
	}

	const words = outputWords(request);
	const limit = emittableTokens(request.maxTokens, reasoningTokens);
	const emitted = words.slice(0, limit);
	const cut = emitted.length < words.length;
	const pieces = emitted.map((word, index) =>
		index === 0 ? word : ` ${word}`,
	);

	if (format.type === "json_object" && pieces.length > 0) {
		pieces[0] = `{"text":"${escapeJson(pieces[0] ?? "")}`;
		for (let index = 1; index < pieces.length; index++) {
			pieces[index] = escapeJson(pieces[index] ?? "");
		}
		if (!cut) pieces[pieces.length - 1] += `"}`;
	}
	return { pieces, toolCalls: [], finishReason: cut ? "length" : "stop" };
}

function outputWords(request: SimulatedRequest): string[] {
	const last = request.messages.at(-1);
	const echo = [
		"Echo:",
		...(last?.text ?? "")
			.replace(DIRECTIVE, " ")
			.split(/\s+/)
			.filter((word) => word.length > 0),
	];
	const target = request.behaviour.completionTokens ?? echo.length;
	const words = echo.slice(0, target);
	for (let index = 0; words.length < target; index++) {
		words.push(LOREM[index % LOREM.length] ?? "lorem");
	}
	return words;
}

function emittableTokens(
	maxTokens: number | undefined,
	reasoningTokens: number,
): number {
	if (maxTokens === undefined) return Number.POSITIVE_INFINITY;
	return Math.max(0, maxTokens - reasoningTokens);
}

function cutPieces(
	pieces: string[],
	maxTokens: number | undefined,
	reasoningTokens: number,
): PlannedChoice {
	const limit = emittableTokens(maxTokens, reasoningTokens);
	const emitted = pieces.slice(0, limit);
	return {
		pieces: emitted,
		toolCalls: [],
		finishReason: emitted.length < pieces.length ? "length" : "stop",
	};
}

function chooseToolCalls(request: SimulatedRequest): PlannedToolCall[] {
	const { tools, toolChoice } = request;
	if (tools.length === 0 || toolChoice.type === "none") return [];

	let called: SimulatedTool[] = [];
	if (toolChoice.type === "tool") {
		const tool = tools.find((candidate) => candidate.name === toolChoice.name);
		if (!tool) {
			throw new SimulatedRequestError(
				`tool_choice names the function "${toolChoice.name}", which is not in tools. Add it to tools or choose another.`,
				"tool_choice",
			);
		}
		called = [tool];
	} else {
		called = toolsMentioned(request);
		if (called.length === 0 && toolChoice.type === "required") {
			called = tools.slice(0, 1);
		}
	}

	return called.map((tool, index) => {
		const args = JSON.stringify(valueForSchema(tool.parameters, "value"));
		const digest = createHash("sha256")
			.update(`${request.model}\n${tool.name}\n${index}\n${args}`)
			.digest("hex");
		return {
			id: digest.slice(0, 24),
			name: tool.name,
			arguments: args,
			argumentPieces: splitPieces(args),
		};
	});
}

function toolsMentioned(request: SimulatedRequest): SimulatedTool[] {
	const last = request.messages.at(-1);
	if (last?.role !== "user") return [];

	const called: SimulatedTool[] = [];
	for (const match of last.text.matchAll(/\bcall\s+([A-Za-z0-9_.-]+)/g)) {
		const tool = request.tools.find((candidate) => candidate.name === match[1]);
		if (tool && !called.includes(tool)) called.push(tool);
	}
	return called;
}

/** Builds a deterministic value that satisfies a JSON schema's shape. */
function valueForSchema(schema: unknown, name: string): unknown {
	if (!schema || typeof schema !== "object") return {};
	const node = schema as {
		type?: unknown;
		enum?: unknown[];
		properties?: Record<string, unknown>;
	};
	if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];

	const type = Array.isArray(node.type) ? node.type[0] : node.type;
	switch (type) {
		case "string":
			return `${name}-1`;
		case "number":
		case "integer":
			return 1;
		case "boolean":
			return true;
		case "array":
			return [];
		case "null":
			return null;
		default: {
			const value: Record<string, unknown> = {};
			for (const [key, child] of Object.entries(node.properties ?? {})) {
				value[key] = valueForSchema(child, key);
			}
			return value;
		}
	}
}

function splitPieces(text: string): string[] {
	const pieces: string[] = [];
	for (let start = 0; start < text.length; start += ARGUMENT_PIECE_CHARS) {
		pieces.push(text.slice(start, start + ARGUMENT_PIECE_CHARS));
	}
	return pieces;
}

function escapeJson(text: string): string {
	return JSON.stringify(text).slice(1, -1);
}
