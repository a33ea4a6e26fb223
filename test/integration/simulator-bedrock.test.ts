import {
	BedrockRuntimeClient,
	ConverseCommand,
	ConverseStreamCommand,
	type ConverseStreamOutput,
	ThrottlingException,
} from "@aws-sdk/client-bedrock-runtime";
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

function bedrockClient(path: string): BedrockRuntimeClient {
	return new BedrockRuntimeClient({
		endpoint: `${simulator.url}${path}`,
		region: "us-east-1",
		credentials: { accessKeyId: "local", secretAccessKey: "local" },
		maxAttempts: 1,
	});
}

const MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0";

describe("bedrock simulator", () => {
	it("answers Converse through the SDK", async () => {
		const client = bedrockClient("/bedrock");

		const output = await client.send(
			new ConverseCommand({
				modelId: MODEL_ID,
				system: [{ text: "Be brief." }],
				messages: [{ role: "user", content: [{ text: "hello there world" }] }],
				inferenceConfig: { maxTokens: 100 },
			}),
		);

		expect(output.output?.message?.content?.[0]?.text).toBe(
			"Echo: hello there world",
		);
		expect(output.stopReason).toBe("end_turn");
		expect(output.usage?.inputTokens).toBe(16);
		expect(output.usage?.outputTokens).toBe(4);
		expect(output.usage?.totalTokens).toBe(20);
	});

	it("records the model from the path", async () => {
		const client = bedrockClient("/p/sim-br/bedrock");
		simulator.clearRequests();

		await client.send(
			new ConverseCommand({
				modelId: MODEL_ID,
				messages: [{ role: "user", content: [{ text: "hi" }] }],
			}),
		);

		const [logged] = simulator.requests("sim-br");
		expect(logged?.model).toBe(MODEL_ID);
		expect(logged?.format).toBe("bedrock");
		expect(logged?.hasCredentials).toBe(true);
	});

	it("streams ConverseStream events", async () => {
		const client = bedrockClient("/p/sim-br/bedrock");

		const output = await client.send(
			new ConverseStreamCommand({
				modelId: MODEL_ID,
				messages: [{ role: "user", content: [{ text: "a b [sim cached=3]" }] }],
			}),
		);
		const events: ConverseStreamOutput[] = [];
		for await (const event of output.stream ?? []) events.push(event);

		expect(events[0]?.messageStart?.role).toBe("assistant");
		const text = events
			.map((event) => event.contentBlockDelta?.delta?.text ?? "")
			.join("");
		expect(text).toBe("Echo: a b");
		const stop = events.find((event) => event.messageStop);
		expect(stop?.messageStop?.stopReason).toBe("end_turn");
		const usage = events.at(-1)?.metadata?.usage;
		expect(usage?.outputTokens).toBe(3);
		expect(usage?.cacheReadInputTokens).toBe(3);
		expect(usage?.inputTokens).toBe(4 + 5 - 3);
	});

	it("streams tool use input", async () => {
		const client = bedrockClient("");

		const output = await client.send(
			new ConverseStreamCommand({
				modelId: MODEL_ID,
				messages: [{ role: "user", content: [{ text: "go" }] }],
				toolConfig: {
					tools: [
						{
							toolSpec: {
								name: "lookup",
								inputSchema: {
									json: {
										type: "object",
										properties: { id: { type: "string" } },
									},
								},
							},
						},
					],
					toolChoice: { any: {} },
				},
			}),
		);
		const events: ConverseStreamOutput[] = [];
		for await (const event of output.stream ?? []) events.push(event);

		const start = events.find((event) => event.contentBlockStart);
		expect(start?.contentBlockStart?.start?.toolUse?.name).toBe("lookup");
		const input = events
			.map((event) => event.contentBlockDelta?.delta?.toolUse?.input ?? "")
			.join("");
		expect(JSON.parse(input)).toEqual({ id: "id-1" });
		const stop = events.find((event) => event.messageStop);
		expect(stop?.messageStop?.stopReason).toBe("tool_use");
	});

	it("maps a 429 fault to ThrottlingException", async () => {
		const client = bedrockClient("/p/sim-throttle/bedrock");
		simulator.setFault("sim-throttle", { status: 429, count: 1 });

		const request = client.send(
			new ConverseCommand({
				modelId: MODEL_ID,
				messages: [{ role: "user", content: [{ text: "hi" }] }],
			}),
		);

		await expect(request).rejects.toBeInstanceOf(ThrottlingException);
	});

	it("ends a stream with an exception", async () => {
		const client = bedrockClient("/p/sim-broken/bedrock");
		simulator.setFault("sim-broken", { streamErrorAfterChunks: 2, count: 1 });

		const output = await client.send(
			new ConverseStreamCommand({
				modelId: MODEL_ID,
				messages: [{ role: "user", content: [{ text: "a b c" }] }],
			}),
		);
		const consume = async () => {
			for await (const _event of output.stream ?? []) {
				// drain
			}
		};

		await expect(consume()).rejects.toThrow(/mid-stream/);
	});
});
