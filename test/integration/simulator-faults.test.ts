import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
	type Simulator,
	startSimulator,
} from "../../infra/local/simulator/server.ts";

let simulator: Simulator;

beforeAll(async () => {
	simulator = await startSimulator();
});

afterEach(async () => {
	await fetch(`${simulator.url}/__control/faults`, { method: "DELETE" });
	await fetch(`${simulator.url}/__control/behaviour`, { method: "DELETE" });
	await fetch(`${simulator.url}/__control/requests`, { method: "DELETE" });
});

afterAll(async () => {
	await simulator.stop();
});

function clientFor(provider: string, timeout = 10_000): OpenAI {
	return new OpenAI({
		baseURL: `${simulator.url}/p/${provider}/openai/v1`,
		apiKey: "sk-simulator-test",
		maxRetries: 0,
		timeout,
	});
}

async function setFault(provider: string, fault: unknown): Promise<Response> {
	return fetch(`${simulator.url}/__control/faults`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ provider, fault }),
	});
}

function postCompletion(provider: string, body: unknown): Promise<Response> {
	return fetch(`${simulator.url}/p/${provider}/openai/v1/chat/completions`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
}

const hello = {
	model: "sim-echo-small",
	messages: [{ role: "user" as const, content: "a b c d e f" }],
};

describe("simulator faults", () => {
	it("answers 503 with an OpenAI error", async () => {
		await setFault("sim-us", { status: 503, message: "down for test" });

		const request = clientFor("sim-us").chat.completions.create(hello);

		await expect(request).rejects.toMatchObject({
			status: 503,
			message: expect.stringContaining("down for test"),
		});
	});

	it("sends retry-after with 429", async () => {
		await setFault("sim-us", { status: 429, retryAfterSeconds: 7 });

		const response = await postCompletion("sim-us", hello);
		const body = await response.json();

		expect(response.status).toBe(429);
		expect(response.headers.get("retry-after")).toBe("7");
		expect(body.error.type).toBe("rate_limit_error");
	});

	it("applies a fault only count times", async () => {
		await setFault("sim-us", { status: 500, count: 2 });

		const first = await postCompletion("sim-us", hello);
		const second = await postCompletion("sim-us", hello);
		const third = await postCompletion("sim-us", hello);

		expect(first.status).toBe(500);
		expect(second.status).toBe(500);
		expect(third.status).toBe(200);
	});

	it("keeps faults per provider", async () => {
		await setFault("sim-us", { status: 503 });

		const other = await postCompletion("sim-sg", hello);

		expect(other.status).toBe(200);
	});

	it("holds a timeout then closes", async () => {
		await setFault("sim-us", { timeoutMs: 400 });
		const started = Date.now();

		const request = postCompletion("sim-us", hello);

		await expect(request).rejects.toThrow();
		expect(Date.now() - started).toBeGreaterThanOrEqual(390);
	});

	it("lets a client time out first", async () => {
		await setFault("sim-us", { timeoutMs: 5_000 });

		const request = clientFor("sim-us", 200).chat.completions.create(hello);

		await expect(request).rejects.toBeInstanceOf(
			OpenAI.APIConnectionTimeoutError,
		);
	});

	it("resets after N chunks", async () => {
		await setFault("sim-us", { resetAfterChunks: 3 });

		const response = await postCompletion("sim-us", { ...hello, stream: true });
		const received: string[] = [];
		const read = async () => {
			const decoder = new TextDecoder();
			for await (const chunk of response.body ?? []) {
				received.push(decoder.decode(chunk, { stream: true }));
			}
		};

		expect(response.status).toBe(200);
		await expect(read()).rejects.toThrow();
		const events = received.join("").split("\n\n").filter(Boolean);
		expect(events).toHaveLength(3);
		expect(received.join("")).not.toContain("[DONE]");
	});

	it("sends an error event mid-stream", async () => {
		await setFault("sim-us", {
			streamErrorAfterChunks: 2,
			message: "broke mid-stream",
		});

		const response = await postCompletion("sim-us", { ...hello, stream: true });
		const events = (await response.text()).split("\n\n").filter(Boolean);

		expect(events).toHaveLength(3);
		expect(JSON.parse(events[2]?.replace(/^data: /, "") ?? "{}")).toEqual({
			error: {
				message: "broke mid-stream",
				type: "server_error",
				param: null,
				code: null,
			},
		});
	});

	it("rejects an invalid fault", async () => {
		const response = await setFault("sim-us", { status: 200 });
		const body = await response.json();

		expect(response.status).toBe(400);
		expect(body.error.message).toContain("fault.status");
	});

	it("logs requests per provider", async () => {
		await postCompletion("sim-us", { ...hello, max_tokens: 9, stream: true });
		await postCompletion("sim-sg", hello);

		const response = await fetch(
			`${simulator.url}/__control/requests?provider=sim-us`,
		);
		const { requests } = await response.json();

		expect(requests).toHaveLength(1);
		expect(requests[0]).toMatchObject({
			provider: "sim-us",
			format: "openai",
			model: "sim-echo-small",
			stream: true,
			maxTokens: 9,
			hasCredentials: false,
		});
		expect(Date.parse(requests[0].time)).not.toBeNaN();
	});
});

describe("simulator latency", () => {
	it("delays the first token", async () => {
		simulator.setBehaviour("sim-slow", { firstTokenLatencyMs: 300 });
		const started = Date.now();

		await clientFor("sim-slow").chat.completions.create(hello);

		expect(Date.now() - started).toBeGreaterThanOrEqual(290);
	});

	it("paces streamed tokens", async () => {
		const started = Date.now();

		const response = await postCompletion("sim-us", {
			...hello,
			stream: true,
			messages: [{ role: "user", content: "x [sim tokens=11 tps=50]" }],
		});
		await response.text();

		// 10 gaps of 20 ms between 11 tokens.
		expect(Date.now() - started).toBeGreaterThanOrEqual(195);
	});

	it("sets global behaviour over HTTP", async () => {
		const set = await fetch(`${simulator.url}/__control/behaviour`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({
				provider: "sim-us",
				behaviour: { completionTokens: 25 },
			}),
		});

		const completion = await clientFor("sim-us").chat.completions.create(hello);

		expect(set.status).toBe(200);
		expect(completion.usage?.completion_tokens).toBe(25);
	});
});
