import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	type Simulator,
	startSimulator,
} from "../../infra/local/simulator/server.ts";

let simulator: Simulator;
let client: OpenAI;

beforeAll(async () => {
	simulator = await startSimulator();
	client = new OpenAI({
		baseURL: `${simulator.url}/p/sim-us/openai/v1`,
		apiKey: "sk-simulator-test",
		maxRetries: 0,
	});
});

afterAll(async () => {
	await simulator.stop();
});

const weatherTool = {
	type: "function" as const,
	function: {
		name: "get_weather",
		description: "Weather for a city",
		parameters: {
			type: "object",
			properties: {
				city: { type: "string" },
				unit: { type: "string", enum: ["celsius", "fahrenheit"] },
				days: { type: "integer" },
			},
			required: ["city"],
		},
	},
};

describe("openai simulator", () => {
	it("echoes the last user message", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [
				{ role: "system", content: "Be brief." },
				{ role: "user", content: "hello there world" },
			],
		});

		expect(completion.object).toBe("chat.completion");
		expect(completion.choices[0]?.message.content).toBe(
			"Echo: hello there world",
		);
		expect(completion.choices[0]?.finish_reason).toBe("stop");
		// (4 + ceil(9 / 4)) + (4 + ceil(17 / 4)) = 7 + 9
		expect(completion.usage?.prompt_tokens).toBe(16);
		expect(completion.usage?.completion_tokens).toBe(4);
		expect(completion.usage?.total_tokens).toBe(20);
	});

	it("returns the same output twice", async () => {
		const request = {
			model: "sim-echo-small",
			messages: [{ role: "user" as const, content: "same input" }],
		};

		const first = await client.chat.completions.create(request);
		const second = await client.chat.completions.create(request);

		expect(second.choices[0]?.message.content).toBe(
			first.choices[0]?.message.content,
		);
		expect(second.usage).toEqual(first.usage);
	});

	it("streams role, content, finish and usage", async () => {
		const stream = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "one two three" }],
			stream: true,
			stream_options: { include_usage: true },
		});
		const chunks = [];
		for await (const chunk of stream) chunks.push(chunk);

		expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
		const text = chunks
			.map((chunk) => chunk.choices[0]?.delta.content ?? "")
			.join("");
		expect(text).toBe("Echo: one two three");
		const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
		expect(finish?.choices[0]?.finish_reason).toBe("stop");
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage?.completion_tokens).toBe(4);
		expect(last?.usage?.prompt_tokens).toBe(8);
	});

	it("frames SSE with a DONE line", async () => {
		const response = await fetch(
			`${simulator.url}/p/sim-us/openai/v1/chat/completions`,
			{
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({
					model: "m",
					stream: true,
					messages: [{ role: "user", content: "a b" }],
				}),
			},
		);
		const text = await response.text();

		expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
		const events = text.split("\n\n").filter((event) => event.length > 0);
		for (const event of events) expect(event).toMatch(/^data: /);
		expect(events.at(-1)).toBe("data: [DONE]");
		expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
		expect(events).toHaveLength(1 + 3 + 1 + 1);
	});

	it("streams an exact token count", async () => {
		const stream = await client.chat.completions.create({
			model: "sim-echo-large",
			messages: [{ role: "user", content: "long answer [sim tokens=500]" }],
			stream: true,
			stream_options: { include_usage: true },
		});
		let contentChunks = 0;
		let usage: OpenAI.CompletionUsage | null | undefined;
		for await (const chunk of stream) {
			if (chunk.choices[0]?.delta.content) contentChunks++;
			if (chunk.usage) usage = chunk.usage;
		}

		expect(contentChunks).toBe(500);
		expect(usage?.completion_tokens).toBe(500);
	});

	it("cuts at max_tokens with length", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "a b c d e f g" }],
			max_tokens: 3,
		});

		expect(completion.choices[0]?.message.content).toBe("Echo: a b");
		expect(completion.choices[0]?.finish_reason).toBe("length");
		expect(completion.usage?.completion_tokens).toBe(3);
	});

	it("honours max_completion_tokens", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "x [sim tokens=50]" }],
			max_completion_tokens: 10,
		});

		expect(completion.usage?.completion_tokens).toBe(10);
		expect(completion.choices[0]?.finish_reason).toBe("length");
	});

	it("reports cached and reasoning tokens", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [
				{ role: "user", content: "cache me [sim cached=all reasoning=7]" },
			],
		});

		const usage = completion.usage;
		expect(usage?.prompt_tokens_details?.cached_tokens).toBe(
			usage?.prompt_tokens,
		);
		expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(7);
		expect(usage?.completion_tokens).toBe(3 + 7);
	});

	it("takes behaviour from headers", async () => {
		const completion = await client.chat.completions.create(
			{ model: "m", messages: [{ role: "user", content: "hi" }] },
			{ headers: { "x-sim-tokens": "12", "x-sim-cached": "4" } },
		);

		expect(completion.usage?.completion_tokens).toBe(12);
		expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(4);
	});

	it("returns n choices", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "pick" }],
			n: 3,
		});

		expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
		expect(completion.usage?.completion_tokens).toBe(6);
	});

	it("writes JSON for json_object", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: 'say "quoted" words' }],
			response_format: { type: "json_object" },
		});

		const parsed = JSON.parse(completion.choices[0]?.message.content ?? "");
		expect(parsed).toEqual({ text: 'Echo: say "quoted" words' });
		expect(completion.usage?.completion_tokens).toBe(4);
	});

	it("calls a tool when asked", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "please call get_weather now" }],
			tools: [weatherTool],
		});

		const choice = completion.choices[0];
		expect(choice?.finish_reason).toBe("tool_calls");
		expect(choice?.message.content).toBeNull();
		const call = choice?.message.tool_calls?.[0];
		expect(call?.type).toBe("function");
		if (call?.type !== "function") throw new Error("expected a function call");
		expect(call.function.name).toBe("get_weather");
		expect(JSON.parse(call.function.arguments)).toEqual({
			city: "city-1",
			unit: "celsius",
			days: 1,
		});
	});

	it("answers text without a tool request", async () => {
		const completion = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "what is the weather" }],
			tools: [weatherTool],
		});

		expect(completion.choices[0]?.finish_reason).toBe("stop");
		expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
	});

	it("streams tool call arguments", async () => {
		const stream = await client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "weather please" }],
			tools: [weatherTool],
			tool_choice: "required",
			stream: true,
		});
		const deltas = [];
		let finishReason: string | null | undefined;
		for await (const chunk of stream) {
			for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
				deltas.push(call);
			}
			finishReason ??= chunk.choices[0]?.finish_reason;
		}

		expect(deltas[0]?.index).toBe(0);
		expect(deltas[0]?.id).toMatch(/^call_/);
		expect(deltas[0]?.function?.name).toBe("get_weather");
		expect(deltas.length).toBeGreaterThan(2);
		const args = deltas
			.map((delta) => delta.function?.arguments ?? "")
			.join("");
		expect(JSON.parse(args).city).toBe("city-1");
		expect(finishReason).toBe("tool_calls");
	});

	it("rejects an unknown named tool", async () => {
		const request = client.chat.completions.create({
			model: "sim-echo-small",
			messages: [{ role: "user", content: "hi" }],
			tools: [weatherTool],
			tool_choice: { type: "function", function: { name: "missing" } },
		});

		await expect(request).rejects.toBeInstanceOf(OpenAI.BadRequestError);
	});

	it("rejects missing messages", async () => {
		const response = await fetch(
			`${simulator.url}/openai/v1/chat/completions`,
			{
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ model: "m" }),
			},
		);
		const body = await response.json();

		expect(response.status).toBe(400);
		expect(body.error.param).toBe("messages");
	});

	it("lists models", async () => {
		const models = await client.models.list();

		expect(models.data.map((model) => model.id)).toContain("sim-echo-small");
	});
});
