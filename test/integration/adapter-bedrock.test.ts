import { describe, expect, it } from "vitest";
import { bedrockAdapter } from "../../functions/providers/bedrock.ts";
import { openAICompatibleAdapter } from "../../functions/providers/openai-compatible.ts";
import { ProviderError } from "../../functions/providers/types.ts";
import {
	hello,
	useAdapterSimulator,
	weatherTool,
} from "../setup/adapter-harness.ts";
import {
	chatRequest,
	collect,
	finishOf,
	textOf,
	toolCallDeltas,
	usageOf,
} from "../setup/provider-fixtures.ts";

const PROVIDER = "sim-bedrock-sg";
const harness = useAdapterSimulator({
	providerId: PROVIDER,
	providerName: "Simulator Bedrock",
	wireFormat: "bedrock",
	adapter: bedrockAdapter,
	upstreamModel: "apac.anthropic.claude-sonnet-4-20250514-v1:0",
});
const { catalogRoute, open, openFailure } = harness;

describe("bedrockAdapter", () => {
	it("streams plain text", async () => {
		const events = await collect(await open(hello));

		expect(textOf(events)).toBe("Echo: hello there world");
		expect(finishOf(events)).toBe("stop");
		expect(events.at(-1)?.type).toBe("usage");
	});

	it("signs a stream request for the upstream model", async () => {
		await collect(await open(hello, { maxOutputTokens: 321 }));

		const [logged] = harness.simulator.requests(PROVIDER);
		expect(logged?.path).toBe(
			`/p/${PROVIDER}/bedrock/model/${encodeURIComponent("apac.anthropic.claude-sonnet-4-20250514-v1:0")}/converse-stream`,
		);
		expect(logged?.model).toBe("apac.anthropic.claude-sonnet-4-20250514-v1:0");
		expect(logged?.stream).toBe(true);
		expect(logged?.maxTokens).toBe(321);
		expect(logged?.hasCredentials).toBe(true);
	});

	it("reports usage like the OpenAI format", async () => {
		const request = chatRequest({
			messages: [
				{ role: "system", content: "Be brief." },
				{ role: "user", content: "hello there world [sim cached=5]" },
			],
		});

		const bedrock = usageOf(await collect(await open(request)));
		const openai = usageOf(
			await collect(
				await openAICompatibleAdapter.open(catalogRoute("openai"), request, {
					signal: new AbortController().signal,
					maxOutputTokens: 100,
				}),
			),
		);

		expect(bedrock?.cachedPromptTokens).toBe(5);
		// 4 + ceil(9 / 4) for the system text, 4 + ceil(32 / 4) for the user text
		expect(bedrock?.promptTokens).toBe(7 + 12);
		expect(bedrock?.completionTokens).toBe(4);
		expect(bedrock).toEqual(openai);
	});

	it("finishes with length at the limit", async () => {
		const request = chatRequest({
			messages: [{ role: "user", content: "go [sim tokens=50]" }],
		});

		const events = await collect(await open(request, { maxOutputTokens: 5 }));

		expect(finishOf(events)).toBe("length");
		expect(usageOf(events)?.completionTokens).toBe(5);
	});

	it("streams a tool call", async () => {
		const request = chatRequest({
			messages: [{ role: "user", content: "please call get_weather" }],
			tools: [weatherTool],
		});

		const events = await collect(await open(request));

		const deltas = toolCallDeltas(events);
		expect(deltas[0]?.index).toBe(0);
		expect(deltas[0]?.id).toMatch(/^tooluse_/);
		expect(deltas[0]?.type).toBe("function");
		expect(deltas[0]?.function?.name).toBe("get_weather");
		expect(deltas.slice(1).every((delta) => delta.id === undefined)).toBe(true);
		const args = deltas
			.map((delta) => delta.function?.arguments ?? "")
			.join("");
		expect(JSON.parse(args)).toEqual({ city: "city-1" });
		expect(finishOf(events)).toBe("tool_calls");
	});

	it("numbers parallel tool calls", async () => {
		const timeTool = {
			type: "function",
			function: {
				name: "get_time",
				parameters: {
					type: "object",
					properties: { zone: { type: "string" } },
				},
			},
		};
		const request = chatRequest({
			messages: [
				{ role: "user", content: "call get_weather and call get_time" },
			],
			tools: [weatherTool, timeTool],
		});

		const events = await collect(await open(request));

		const starts = toolCallDeltas(events).filter((delta) => delta.id);
		expect(starts.map((delta) => delta.index)).toEqual([0, 1]);
		expect(starts.map((delta) => delta.function?.name)).toEqual([
			"get_weather",
			"get_time",
		]);
	});

	it("completes a tool round trip", async () => {
		const first = chatRequest({
			messages: [{ role: "user", content: "call get_weather" }],
			tools: [weatherTool],
		});
		const deltas = toolCallDeltas(await collect(await open(first)));
		const id = deltas[0]?.id as string;
		const args = deltas
			.map((delta) => delta.function?.arguments ?? "")
			.join("");
		const second = chatRequest({
			messages: [
				{ role: "user", content: "call get_weather" },
				{
					role: "assistant",
					content: null,
					tool_calls: [
						{
							id,
							type: "function",
							function: { name: "get_weather", arguments: args },
						},
					],
				},
				{ role: "tool", tool_call_id: id, content: "sunny and warm" },
			],
			tools: [weatherTool],
		});

		const events = await collect(await open(second));

		expect(textOf(events)).toBe("Echo: sunny and warm");
		expect(finishOf(events)).toBe("stop");
	});

	it("sends a data URL image as bytes", async () => {
		const pixel =
			"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
		const request = chatRequest({
			messages: [
				{
					role: "user",
					content: [
						{
							type: "image_url",
							image_url: { url: `data:image/png;base64,${pixel}` },
						},
						{ type: "text", text: "describe it" },
					],
				},
			],
		});

		const events = await collect(await open(request));

		expect(textOf(events)).toBe("Echo: describe it");
	});

	it("rejects an image link without a call", async () => {
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

		const error = await openFailure(request);

		expect(error.kind).toBe("client_error");
		expect(error.message).toContain("base64 data URLs");
		expect(harness.simulator.requests(PROVIDER)).toHaveLength(0);
	});

	it("rejects n above 1 without a call", async () => {
		const error = await openFailure(
			chatRequest({ messages: [{ role: "user", content: "hi" }], n: 2 }),
		);

		expect(error.kind).toBe("client_error");
		expect(error.message).toMatch(/n is 2/);
		expect(harness.simulator.requests(PROVIDER)).toHaveLength(0);
	});
});

describe("bedrockAdapter faults", () => {
	it("classifies 503 as server_error", async () => {
		harness.simulator.setFault(PROVIDER, { status: 503 });

		const error = await openFailure(hello);

		expect(error.kind).toBe("server_error");
		expect(error.status).toBe(503);
		expect(error.retryable).toBe(true);
	});

	it("classifies 500 as server_error", async () => {
		harness.simulator.setFault(PROVIDER, { status: 500 });

		const error = await openFailure(hello);

		expect(error.kind).toBe("server_error");
		expect(error.message).toContain("InternalServerException");
		expect(error.retryable).toBe(true);
	});

	it("classifies 429 with retry-after", async () => {
		harness.simulator.setFault(PROVIDER, { status: 429, retryAfterSeconds: 7 });

		const error = await openFailure(hello);

		expect(error.kind).toBe("rate_limited");
		expect(error.retryAfterSeconds).toBe(7);
		expect(error.retryable).toBe(true);
	});

	it("classifies 400 as client_error", async () => {
		harness.simulator.setFault(PROVIDER, { status: 400, message: "bad field" });

		const error = await openFailure(hello);

		expect(error.kind).toBe("client_error");
		expect(error.message).toContain("bad field");
		expect(error.retryable).toBe(false);
	});

	it("classifies 401 as auth", async () => {
		harness.simulator.setFault(PROVIDER, { status: 401 });

		const error = await openFailure(hello);

		expect(error.kind).toBe("auth");
		expect(error.status).toBe(401);
	});

	it("fails iteration after a reset", async () => {
		harness.simulator.setFault(PROVIDER, { resetAfterChunks: 3 });
		const events = await open(hello);

		const error = await collect(events).catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).kind).toBe("connection");
		expect((error as ProviderError).retryable).toBe(true);
	});

	it("fails iteration on an error event", async () => {
		harness.simulator.setFault(PROVIDER, { streamErrorAfterChunks: 2 });
		const events = await open(hello);

		const error = await collect(events).catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).kind).toBe("stream_error");
		expect((error as ProviderError).message).toContain(
			"ModelStreamErrorException",
		);
	});

	it("times out waiting for the head", async () => {
		harness.simulator.setFault(PROVIDER, { timeoutMs: 3_000 });

		const error = await openFailure(hello, catalogRoute("bedrock", 200));

		expect(error.kind).toBe("timeout");
	});

	it("aborts a stream through the signal", async () => {
		harness.simulator.setBehaviour(PROVIDER, { tokensPerSecond: 5 });
		const controller = new AbortController();
		const events = await open(
			chatRequest({
				messages: [{ role: "user", content: "go [sim tokens=100]" }],
			}),
			{ signal: controller.signal },
		);
		const started = Date.now();

		setTimeout(() => controller.abort(), 300);
		const error = await collect(events).catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).kind).toBe("connection");
		expect(Date.now() - started).toBeLessThan(2_000);
	});

	it("aborts before the head through the signal", async () => {
		harness.simulator.setFault(PROVIDER, { timeoutMs: 3_000 });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 100);

		const error = await open(hello, { signal: controller.signal }).catch(
			(caught: unknown) => caught,
		);

		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).kind).toBe("connection");
	});
});
