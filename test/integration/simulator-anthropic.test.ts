import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	type Simulator,
	startSimulator,
} from "../../infra/local/simulator/server.ts";

let simulator: Simulator;

beforeAll(async () => {
	simulator = await startSimulator();
});

afterAll(async () => {
	await simulator.stop();
});

function postMessages(body: unknown): Promise<Response> {
	return fetch(`${simulator.url}/p/sim-eu/anthropic/v1/messages`, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			"x-api-key": "sk-ant-test",
			"anthropic-version": "2023-06-01",
		},
		body: JSON.stringify(body),
	});
}

interface SseEvent {
	event: string;
	data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
	return text
		.split("\n\n")
		.filter((block) => block.length > 0)
		.map((block) => {
			const [eventLine, dataLine] = block.split("\n");
			return {
				event: eventLine?.replace(/^event: /, "") ?? "",
				data: JSON.parse(dataLine?.replace(/^data: /, "") ?? "{}"),
			};
		});
}

const searchTool = {
	name: "search_docs",
	description: "Search the docs",
	input_schema: {
		type: "object",
		properties: { query: { type: "string" }, limit: { type: "number" } },
	},
};

describe("anthropic simulator", () => {
	it("answers a message with usage", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 100,
			system: "Be brief.",
			messages: [{ role: "user", content: "hello there world" }],
		});
		const body = await response.json();

		expect(response.status).toBe(200);
		expect(body.type).toBe("message");
		expect(body.content).toEqual([
			{ type: "text", text: "Echo: hello there world" },
		]);
		expect(body.stop_reason).toBe("end_turn");
		expect(body.usage).toEqual({
			input_tokens: 16,
			output_tokens: 4,
			cache_creation_input_tokens: 0,
			cache_read_input_tokens: 0,
		});
	});

	it("streams events in order", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 100,
			stream: true,
			messages: [{ role: "user", content: "a b" }],
		});
		const events = parseSse(await response.text());

		expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
		expect(events.map((event) => event.event)).toEqual([
			"message_start",
			"content_block_start",
			"ping",
			"content_block_delta",
			"content_block_delta",
			"content_block_delta",
			"content_block_stop",
			"message_delta",
			"message_stop",
		]);
		for (const event of events) expect(event.data.type).toBe(event.event);
		const text = events
			.filter((event) => event.event === "content_block_delta")
			.map((event) => (event.data.delta as { text: string }).text)
			.join("");
		expect(text).toBe("Echo: a b");
		const delta = events.find((event) => event.event === "message_delta");
		expect(delta?.data.usage).toEqual({ output_tokens: 3 });
		expect(delta?.data.delta).toEqual({
			stop_reason: "end_turn",
			stop_sequence: null,
		});
	});

	it("splits cached input tokens", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 100,
			messages: [{ role: "user", content: "hello [sim cached=5]" }],
		});
		const body = await response.json();

		expect(body.usage.cache_read_input_tokens).toBe(5);
		expect(body.usage.input_tokens).toBe(4 + 5 - 5);
	});

	it("stops at max_tokens", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 2,
			messages: [{ role: "user", content: "a b c d" }],
		});
		const body = await response.json();

		expect(body.stop_reason).toBe("max_tokens");
		expect(body.usage.output_tokens).toBe(2);
	});

	it("streams tool_use input", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 100,
			stream: true,
			tools: [searchTool],
			messages: [{ role: "user", content: "call search_docs for me" }],
		});
		const events = parseSse(await response.text());

		const start = events.find((event) => event.event === "content_block_start");
		const block = start?.data.content_block as Record<string, unknown>;
		expect(block.type).toBe("tool_use");
		expect(block.name).toBe("search_docs");
		expect(String(block.id)).toMatch(/^toolu_/);
		const json = events
			.filter((event) => event.event === "content_block_delta")
			.map((event) => {
				const delta = event.data.delta as {
					type: string;
					partial_json: string;
				};
				expect(delta.type).toBe("input_json_delta");
				return delta.partial_json;
			})
			.join("");
		expect(JSON.parse(json)).toEqual({ query: "query-1", limit: 1 });
		const delta = events.find((event) => event.event === "message_delta");
		expect(delta?.data.delta).toEqual({
			stop_reason: "tool_use",
			stop_sequence: null,
		});
	});

	it("answers text after a tool result", async () => {
		const response = await postMessages({
			model: "claude-sim",
			max_tokens: 100,
			tools: [searchTool],
			tool_choice: { type: "auto" },
			messages: [
				{ role: "user", content: "call search_docs" },
				{
					role: "assistant",
					content: [
						{ type: "tool_use", id: "toolu_1", name: "search_docs", input: {} },
					],
				},
				{
					role: "user",
					content: [
						{
							type: "tool_result",
							tool_use_id: "toolu_1",
							content: "found it",
						},
					],
				},
			],
		});
		const body = await response.json();

		expect(body.stop_reason).toBe("end_turn");
		expect(body.content[0].text).toBe("Echo: found it");
	});

	it("rejects a missing max_tokens", async () => {
		const response = await postMessages({
			model: "claude-sim",
			messages: [{ role: "user", content: "hi" }],
		});
		const body = await response.json();

		expect(response.status).toBe(400);
		expect(body.type).toBe("error");
		expect(body.error.type).toBe("invalid_request_error");
	});
});
