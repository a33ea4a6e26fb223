import { describe, expect, it } from "vitest";
import {
	BedrockStreamTranslator,
	bedrockClientConfig,
	bedrockFinishReason,
	providerErrorFromBedrock,
} from "../../functions/providers/bedrock.ts";
import { toConverseStreamInput } from "../../functions/providers/bedrock-request.ts";
import { ProviderError } from "../../functions/providers/types.ts";
import { chatRequest, testRoute } from "../setup/provider-fixtures.ts";

const route = testRoute({
	providerId: "bedrock-ap-southeast-1",
	providerName: "Amazon Bedrock ap-southeast-1",
	adapter: "bedrock",
	baseUrl: "bedrock://ap-southeast-1",
	upstreamModel: "apac.anthropic.claude-sonnet-4-20250514-v1:0",
});

const weatherTool = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Current weather of a city",
		parameters: { type: "object", properties: { city: { type: "string" } } },
	},
};

const toolHistory = [
	{ role: "user", content: "weather in Paris?" },
	{
		role: "assistant",
		content: null,
		tool_calls: [
			{
				id: "call_1",
				type: "function",
				function: { name: "get_weather", arguments: '{"city":"Paris"}' },
			},
		],
	},
	{ role: "tool", tool_call_id: "call_1", content: "sunny" },
];

describe("bedrockClientConfig", () => {
	it("uses the region of bedrock:// URLs", () => {
		const config = bedrockClientConfig("bedrock://ap-southeast-1");

		expect(config.region).toBe("ap-southeast-1");
		expect(config.endpoint).toBeUndefined();
		expect(config.credentials).toBeUndefined();
		expect(config.maxAttempts).toBe(1);
	});

	it("uses static credentials for http endpoints", () => {
		const config = bedrockClientConfig(
			"http://127.0.0.1:4010/p/sim-bedrock-sg/bedrock/",
		);

		expect(config.endpoint).toBe(
			"http://127.0.0.1:4010/p/sim-bedrock-sg/bedrock",
		);
		expect(config.region).toBe("us-east-1");
		expect(config.credentials).toEqual({
			accessKeyId: "local",
			secretAccessKey: "local",
		});
	});

	it("rejects other URLs", () => {
		expect(() => bedrockClientConfig("bedrock://")).toThrow(
			/Invalid Bedrock baseUrl/,
		);
		expect(() => bedrockClientConfig("ftp://example.com")).toThrow(
			/Invalid Bedrock baseUrl/,
		);
	});
});

describe("toConverseStreamInput", () => {
	it("sets model, system and inference", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: [
					{ role: "system", content: "Be brief." },
					{ role: "developer", content: "Use SI." },
					{ role: "user", content: "hi" },
				],
				temperature: 1.5,
				top_p: 0.8,
				stop: ["END", "STOP"],
			}),
			256,
		);

		expect(input.modelId).toBe("apac.anthropic.claude-sonnet-4-20250514-v1:0");
		expect(input.system).toEqual([{ text: "Be brief." }, { text: "Use SI." }]);
		expect(input.messages).toEqual([
			{ role: "user", content: [{ text: "hi" }] },
		]);
		expect(input.inferenceConfig).toEqual({
			maxTokens: 256,
			temperature: 1,
			topP: 0.8,
			stopSequences: ["END", "STOP"],
		});
	});

	it("translates a tool round trip", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({ messages: toolHistory, tools: [weatherTool] }),
			100,
		);

		expect(input.messages).toEqual([
			{ role: "user", content: [{ text: "weather in Paris?" }] },
			{
				role: "assistant",
				content: [
					{
						toolUse: {
							toolUseId: "call_1",
							name: "get_weather",
							input: { city: "Paris" },
						},
					},
				],
			},
			{
				role: "user",
				content: [
					{ toolResult: { toolUseId: "call_1", content: [{ text: "sunny" }] } },
				],
			},
		]);
		expect(input.toolConfig).toEqual({
			tools: [
				{
					toolSpec: {
						name: "get_weather",
						description: "Current weather of a city",
						inputSchema: {
							json: {
								type: "object",
								properties: { city: { type: "string" } },
							},
						},
					},
				},
			],
		});
	});

	it.each([
		["auto", undefined],
		["required", { any: {} }],
		[
			{ type: "function", function: { name: "get_weather" } },
			{ tool: { name: "get_weather" } },
		],
	])("maps tool_choice %j", (toolChoice, expected) => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tools: [weatherTool],
				tool_choice: toolChoice,
			}),
			100,
		);

		expect(input.toolConfig?.toolChoice).toEqual(expected);
	});

	it("sends no tools for tool_choice none", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				tools: [weatherTool],
				tool_choice: "none",
			}),
			100,
		);

		expect(input.toolConfig).toBeUndefined();
	});

	it("keeps tools for none with tool history", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: toolHistory,
				tools: [weatherTool],
				tool_choice: "none",
			}),
			100,
		);

		expect(input.toolConfig?.tools).toHaveLength(1);
		expect(input.toolConfig?.toolChoice).toBeUndefined();
	});

	it("decodes data URL images", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: [
					{
						role: "user",
						content: [
							{
								type: "image_url",
								image_url: { url: "data:image/jpeg;base64,AQID" },
							},
						],
					},
				],
			}),
			100,
		);

		const block = input.messages?.[0]?.content?.[0];
		expect(block?.image?.format).toBe("jpeg");
		expect([...(block?.image?.source?.bytes ?? [])]).toEqual([1, 2, 3]);
	});

	it("rejects image links", () => {
		const request = chatRequest({
			messages: [
				{
					role: "user",
					content: [
						{
							type: "image_url",
							image_url: { url: "https://images.example.com/cat.png" },
						},
					],
				},
			],
		});

		expect(() => toConverseStreamInput(route, request, 100)).toThrow(
			/base64 data URLs/,
		);
	});

	it("adds a JSON instruction for json_object", () => {
		const input = toConverseStreamInput(
			route,
			chatRequest({
				messages: [{ role: "user", content: "hi" }],
				response_format: { type: "json_object" },
			}),
			100,
		);

		expect(input.system?.[0]?.text).toMatch(/JSON object/);
	});

	it("rejects n above 1", () => {
		const request = chatRequest({
			messages: [{ role: "user", content: "hi" }],
			n: 2,
		});

		expect(() => toConverseStreamInput(route, request, 100)).toThrow(/n is 2/);
	});
});

describe("providerErrorFromBedrock", () => {
	it.each([
		["ThrottlingException", 429, "rate_limited"],
		["throttlingException", undefined, "rate_limited"],
		["ServiceUnavailableException", 503, "server_error"],
		["InternalServerException", 500, "server_error"],
		["internalServerException", undefined, "server_error"],
		["ModelNotReadyException", 429, "server_error"],
		["ModelTimeoutException", 408, "timeout"],
		["modelStreamErrorException", undefined, "stream_error"],
		["AccessDeniedException", 403, "auth"],
		["UnrecognizedClientException", 403, "auth"],
		["ValidationException", 400, "client_error"],
		["validationException", undefined, "client_error"],
	])("classifies %s", (name, status, kind) => {
		const error = providerErrorFromBedrock(
			"bedrock-ap-southeast-1",
			{
				name,
				message: "details",
				...(status ? { $metadata: { httpStatusCode: status } } : {}),
			},
			false,
		);

		expect(error.kind).toBe(kind);
	});

	it("keeps the retry-after of a throttle", () => {
		const error = providerErrorFromBedrock(
			"bedrock-ap-southeast-1",
			{
				name: "ThrottlingException",
				message: "Too many requests",
				$metadata: { httpStatusCode: 429 },
				$response: { headers: { "retry-after": "3" } },
			},
			false,
		);

		expect(error.retryAfterSeconds).toBe(3);
		expect(error.status).toBe(429);
	});

	it("passes the validation message on", () => {
		const error = providerErrorFromBedrock(
			"bedrock-ap-southeast-1",
			{ name: "ValidationException", message: "maxTokens is too large" },
			false,
		);

		expect(error.message).toBe("maxTokens is too large");
		expect(error.retryable).toBe(false);
	});

	it("classifies aborts by timer", () => {
		const abort = { name: "AbortError", message: "Request aborted" };

		expect(providerErrorFromBedrock("b", abort, true).kind).toBe("timeout");
		expect(providerErrorFromBedrock("b", abort, false).kind).toBe("connection");
	});

	it("classifies network errors as connection", () => {
		const error = providerErrorFromBedrock(
			"b",
			Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
				code: "ECONNREFUSED",
			}),
			false,
		);

		expect(error.kind).toBe("connection");
	});

	it("classifies unknown statuses", () => {
		const error = providerErrorFromBedrock(
			"b",
			{ name: "SomethingNewException", $metadata: { httpStatusCode: 502 } },
			false,
		);

		expect(error.kind).toBe("server_error");
	});
});

describe("BedrockStreamTranslator", () => {
	it("translates text deltas", () => {
		const translator = new BedrockStreamTranslator(route);

		const events = [
			translator.translate({ messageStart: { role: "assistant" } }),
			translator.translate({
				contentBlockDelta: { contentBlockIndex: 0, delta: { text: "Hi" } },
			}),
		].flat();

		expect(events).toEqual([{ type: "delta", index: 0, content: "Hi" }]);
	});

	it("numbers tools apart from text", () => {
		const translator = new BedrockStreamTranslator(route);
		translator.translate({
			contentBlockDelta: { contentBlockIndex: 0, delta: { text: "Let me" } },
		});

		const start = translator.translate({
			contentBlockStart: {
				contentBlockIndex: 1,
				start: { toolUse: { toolUseId: "tooluse_a", name: "get_weather" } },
			},
		});
		const piece = translator.translate({
			contentBlockDelta: {
				contentBlockIndex: 1,
				delta: { toolUse: { input: '{"city":"Rome"}' } },
			},
		});

		expect(start).toEqual([
			{
				type: "delta",
				index: 0,
				toolCalls: [
					{
						index: 0,
						id: "tooluse_a",
						type: "function",
						function: { name: "get_weather", arguments: "" },
					},
				],
			},
		]);
		expect(piece).toEqual([
			{
				type: "delta",
				index: 0,
				toolCalls: [{ index: 0, function: { arguments: '{"city":"Rome"}' } }],
			},
		]);
	});

	it("counts cached tokens in the prompt", () => {
		const translator = new BedrockStreamTranslator(route);

		const events = translator.translate({
			metadata: {
				usage: {
					inputTokens: 10,
					outputTokens: 42,
					totalTokens: 1252,
					cacheReadInputTokens: 1000,
					cacheWriteInputTokens: 200,
				},
				metrics: { latencyMs: 100 },
			},
		});

		expect(events).toEqual([
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

	it("finishes on messageStop", () => {
		const translator = new BedrockStreamTranslator(route);

		const events = translator.translate({
			messageStop: { stopReason: "tool_use" },
		});

		expect(events).toEqual([
			{ type: "finish", index: 0, finishReason: "tool_calls" },
		]);
		expect(translator.stopped).toBe(true);
	});

	it("throws on an exception event", () => {
		const translator = new BedrockStreamTranslator(route);

		const translate = () =>
			translator.translate({
				throttlingException: {
					name: "ThrottlingException",
					message: "slow down",
				} as never,
			});

		expect(translate).toThrow(ProviderError);
		expect(translate).toThrow(/ThrottlingException/);
	});

	it.each([
		["end_turn", "stop"],
		["stop_sequence", "stop"],
		["max_tokens", "length"],
		["model_context_window_exceeded", "length"],
		["tool_use", "tool_calls"],
		["guardrail_intervened", "content_filter"],
		["content_filtered", "content_filter"],
	])("maps stopReason %s", (stopReason, finishReason) => {
		expect(bedrockFinishReason(stopReason)).toBe(finishReason);
	});
});
