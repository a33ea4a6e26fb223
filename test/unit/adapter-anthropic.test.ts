import { describe, expect, it } from "vitest";
import {
	AnthropicStreamTranslator,
	anthropicFinishReason,
	toAnthropicRequest,
} from "../../functions/providers/anthropic.ts";
import { parseDataUrl } from "../../functions/providers/chat-translation.ts";
import { ProviderError } from "../../functions/providers/types.ts";
import { chatRequest, testRoute } from "../setup/provider-fixtures.ts";

const route = testRoute({
	providerId: "anthropic",
	providerName: "Anthropic",
	adapter: "anthropic",
	baseUrl: "https://api.anthropic.com",
	upstreamModel: "claude-sonnet-4-20250514",
	processingRegion: "US",
	dataRetention: "provider_standard",
});

const weatherTool = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Current weather of a city",
		parameters: { type: "object", properties: { city: { type: "string" } } },
	},
};

describe("toAnthropicRequest", () => {
	it("sets model, limit and streaming", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({ messages: [{ role: "user", content: "hi" }] }),
			512,
		);

		expect(body.model).toBe("claude-sonnet-4-20250514");
		expect(body.max_tokens).toBe(512);
		expect(body.stream).toBe(true);
		expect(body.messages).toEqual([
			{ role: "user", content: [{ type: "text", text: "hi" }] },
		]);
	});

	it("moves system and developer text", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [
					{ role: "system", content: "Be brief." },
					{ role: "developer", content: [{ type: "text", text: "Use SI." }] },
					{ role: "user", content: "hi" },
				],
			}),
			100,
		);

		expect(body.system).toEqual([
			{ type: "text", text: "Be brief." },
			{ type: "text", text: "Use SI." },
		]);
		expect(body.messages).toHaveLength(1);
	});

	it("adds a JSON instruction for json_object", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				response_format: { type: "json_object" },
			}),
			100,
		);

		const system = body.system as { text: string }[];
		expect(system).toHaveLength(1);
		expect(system[0]?.text).toMatch(/JSON object/);
	});

	it("includes the schema for json_schema", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				response_format: {
					type: "json_schema",
					json_schema: { name: "answer", schema: { type: "integer" } },
				},
			}),
			100,
		);

		expect((body.system as { text: string }[])[0]?.text).toContain(
			'{"type":"integer"}',
		);
	});

	it("translates a tool round trip", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [
					{ role: "user", content: "weather in Paris and Rome?" },
					{
						role: "assistant",
						content: "Checking.",
						tool_calls: [
							{
								id: "call_1",
								type: "function",
								function: {
									name: "get_weather",
									arguments: '{"city":"Paris"}',
								},
							},
							{
								id: "call_2",
								type: "function",
								function: {
									name: "get_weather",
									arguments: '{"city":"Rome"}',
								},
							},
						],
					},
					{ role: "tool", tool_call_id: "call_1", content: "sunny" },
					{
						role: "tool",
						tool_call_id: "call_2",
						content: [{ type: "text", text: "rain" }],
					},
					{ role: "user", content: "and tomorrow?" },
				],
				tools: [weatherTool],
			}),
			100,
		);

		expect(body.messages).toEqual([
			{
				role: "user",
				content: [{ type: "text", text: "weather in Paris and Rome?" }],
			},
			{
				role: "assistant",
				content: [
					{ type: "text", text: "Checking." },
					{
						type: "tool_use",
						id: "call_1",
						name: "get_weather",
						input: { city: "Paris" },
					},
					{
						type: "tool_use",
						id: "call_2",
						name: "get_weather",
						input: { city: "Rome" },
					},
				],
			},
			{
				role: "user",
				content: [
					{ type: "tool_result", tool_use_id: "call_1", content: "sunny" },
					{ type: "tool_result", tool_use_id: "call_2", content: "rain" },
					{ type: "text", text: "and tomorrow?" },
				],
			},
		]);
	});

	it("puts tool results before text", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [
					{ role: "user", content: "first" },
					{
						role: "assistant",
						tool_calls: [
							{
								id: "call_1",
								type: "function",
								function: { name: "get_weather", arguments: "{}" },
							},
						],
					},
					{ role: "user", content: "never mind" },
					{ role: "tool", tool_call_id: "call_1", content: "sunny" },
				],
			}),
			100,
		);

		const last = (body.messages as { content: { type: string }[] }[]).at(-1);
		expect(last?.content.map((block) => block.type)).toEqual([
			"tool_result",
			"text",
		]);
	});

	it("rejects tool arguments that are not JSON", () => {
		const request = chatRequest({
			messages: [
				{
					role: "assistant",
					tool_calls: [
						{
							id: "call_1",
							type: "function",
							function: { name: "get_weather", arguments: "{city:" },
						},
					],
				},
			],
		});

		expect(() => toAnthropicRequest(route, request, 100)).toThrow(
			/tool call call_1 are not a JSON object/,
		);
	});

	it("translates image parts", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [
					{
						role: "user",
						content: [
							{
								type: "image_url",
								image_url: { url: "data:image/png;base64,iVBORw0K" },
							},
							{
								type: "image_url",
								image_url: { url: "https://images.example.com/cat.jpg" },
							},
						],
					},
				],
			}),
			100,
		);

		const [message] = body.messages as { content: unknown[] }[];
		expect(message?.content).toEqual([
			{
				type: "image",
				source: {
					type: "base64",
					media_type: "image/png",
					data: "iVBORw0K",
				},
			},
			{
				type: "image",
				source: { type: "url", url: "https://images.example.com/cat.jpg" },
			},
		]);
	});

	it("rejects unsupported content parts", () => {
		const request = chatRequest({
			messages: [
				{
					role: "user",
					content: [{ type: "input_audio", input_audio: { data: "" } }],
				},
			],
		});

		expect(() => toAnthropicRequest(route, request, 100)).toThrow(
			/input_audio/,
		);
	});

	it("translates tools", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tools: [
					weatherTool,
					{ type: "function", function: { name: "no_params" } },
				],
			}),
			100,
		);

		expect(body.tools).toEqual([
			{
				name: "get_weather",
				description: "Current weather of a city",
				input_schema: {
					type: "object",
					properties: { city: { type: "string" } },
				},
			},
			{
				name: "no_params",
				input_schema: { type: "object", properties: {} },
			},
		]);
		expect(body.tool_choice).toBeUndefined();
	});

	it.each([
		["auto", { type: "auto" }],
		["none", { type: "none" }],
		["required", { type: "any" }],
		[
			{ type: "function", function: { name: "get_weather" } },
			{ type: "tool", name: "get_weather" },
		],
	])("maps tool_choice %j", (toolChoice, expected) => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tools: [weatherTool],
				tool_choice: toolChoice,
			}),
			100,
		);

		expect(body.tool_choice).toEqual(expected);
	});

	it("disables parallel tool use", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tools: [weatherTool],
				parallel_tool_calls: false,
			}),
			100,
		);

		expect(body.tool_choice).toEqual({
			type: "auto",
			disable_parallel_tool_use: true,
		});
	});

	it("drops tool_choice without tools", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tool_choice: "required",
			}),
			100,
		);

		expect(body.tool_choice).toBeUndefined();
		expect(body.tools).toBeUndefined();
	});

	it("maps sampling and stop fields", () => {
		const body = toAnthropicRequest(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				temperature: 1.7,
				top_p: 0.9,
				stop: "END",
				user: "customer-42",
			}),
			100,
		);

		expect(body.temperature).toBe(1);
		expect(body.top_p).toBe(0.9);
		expect(body.stop_sequences).toEqual(["END"]);
		expect(body.metadata).toEqual({ user_id: "customer-42" });
	});

	it("rejects n above 1", () => {
		const request = chatRequest({
			messages: [{ role: "user", content: "hi" }],
			n: 3,
		});

		const failure = (() => {
			try {
				toAnthropicRequest(route, request, 100);
			} catch (error) {
				return error;
			}
		})();

		expect(failure).toBeInstanceOf(ProviderError);
		expect((failure as ProviderError).kind).toBe("client_error");
		expect((failure as ProviderError).message).toContain("n is 3");
	});
});

describe("parseDataUrl", () => {
	it("splits a base64 data URL", () => {
		expect(parseDataUrl("data:image/webp;base64,AAAA")).toEqual({
			mediaType: "image/webp",
			base64: "AAAA",
		});
	});

	it("ignores other URLs", () => {
		expect(parseDataUrl("https://example.com/a.png")).toBeUndefined();
		expect(parseDataUrl("data:text/plain,hello")).toBeUndefined();
	});
});

describe("AnthropicStreamTranslator", () => {
	it("translates text deltas", () => {
		const translator = new AnthropicStreamTranslator(route);

		const events = [
			translator.translate("content_block_start", {
				type: "content_block_start",
				index: 0,
				content_block: { type: "text", text: "" },
			}),
			translator.translate("content_block_delta", {
				type: "content_block_delta",
				index: 0,
				delta: { type: "text_delta", text: "Hello" },
			}),
			translator.translate("ping", { type: "ping" }),
		].flat();

		expect(events).toEqual([{ type: "delta", index: 0, content: "Hello" }]);
	});

	it("numbers tools apart from text", () => {
		const translator = new AnthropicStreamTranslator(route);
		const start = (index: number, id: string) =>
			translator.translate("content_block_start", {
				type: "content_block_start",
				index,
				content_block: { type: "tool_use", id, name: "get_weather", input: {} },
			});
		const piece = (index: number, json: string) =>
			translator.translate("content_block_delta", {
				type: "content_block_delta",
				index,
				delta: { type: "input_json_delta", partial_json: json },
			});

		translator.translate("content_block_start", {
			type: "content_block_start",
			index: 0,
			content_block: { type: "text", text: "" },
		});
		const first = start(1, "toolu_a");
		const firstArgs = piece(1, '{"city":');
		const second = start(2, "toolu_b");
		const secondArgs = piece(2, '"Rome"}');

		expect(first).toEqual([
			{
				type: "delta",
				index: 0,
				toolCalls: [
					{
						index: 0,
						id: "toolu_a",
						type: "function",
						function: { name: "get_weather", arguments: "" },
					},
				],
			},
		]);
		expect(firstArgs).toEqual([
			{
				type: "delta",
				index: 0,
				toolCalls: [{ index: 0, function: { arguments: '{"city":' } }],
			},
		]);
		expect(second[0]).toMatchObject({ toolCalls: [{ index: 1 }] });
		expect(secondArgs[0]).toMatchObject({ toolCalls: [{ index: 1 }] });
	});

	it("counts cached tokens in the prompt", () => {
		const translator = new AnthropicStreamTranslator(route);

		translator.translate("message_start", {
			type: "message_start",
			message: {
				usage: {
					input_tokens: 10,
					cache_read_input_tokens: 1000,
					cache_creation_input_tokens: 200,
					output_tokens: 1,
				},
			},
		});
		const events = translator.translate("message_delta", {
			type: "message_delta",
			delta: { stop_reason: "end_turn", stop_sequence: null },
			usage: { output_tokens: 42 },
		});

		expect(events).toEqual([
			{ type: "finish", index: 0, finishReason: "stop" },
			{
				type: "usage",
				usage: {
					promptTokens: 1210,
					cachedPromptTokens: 1000,
					completionTokens: 42,
					reasoningTokens: 0,
				},
			},
		]);
	});

	it("marks message_stop as finished", () => {
		const translator = new AnthropicStreamTranslator(route);

		translator.translate("message_stop", { type: "message_stop" });

		expect(translator.finished).toBe(true);
	});

	it("throws on an error event", () => {
		const translator = new AnthropicStreamTranslator(route);

		const translate = () =>
			translator.translate("error", {
				type: "error",
				error: { type: "overloaded_error", message: "Overloaded" },
			});

		expect(translate).toThrow(ProviderError);
		expect(translate).toThrow(/overloaded_error/);
	});

	it.each([
		["end_turn", "stop"],
		["stop_sequence", "stop"],
		["pause_turn", "stop"],
		["max_tokens", "length"],
		["model_context_window_exceeded", "length"],
		["tool_use", "tool_calls"],
		["refusal", "content_filter"],
	])("maps stop_reason %s", (stopReason, finishReason) => {
		expect(anthropicFinishReason(stopReason)).toBe(finishReason);
	});
});
