/**
 * Tests the chat path end to end through the Anthropic and Bedrock adapters.
 * The simulator plans one completion for every wire format, so the official
 * `openai` SDK must get the same shapes, text, tool calls and token counts
 * from `claude-sonnet-4` on each adapter as from an OpenAI-compatible route.
 */
import OpenAI from "openai";
import type {
	ChatCompletion,
	ChatCompletionChunk,
	ChatCompletionCreateParamsNonStreaming,
} from "openai/resources/chat/completions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WorkspacePolicy } from "../../functions/store/items.ts";
import {
	createTestKey,
	expectNoOpenReservations,
	startGateway,
	type TestGateway,
} from "../setup/gateway.ts";
import { expectLedgerReconciles } from "../setup/store.ts";

let gateway: TestGateway;
const workspaces: string[] = [];

beforeAll(async () => {
	gateway = await startGateway();
});

afterAll(async () => {
	await gateway?.stop();
});

afterEach(async () => {
	for (const workspaceId of workspaces.splice(0)) {
		await expectNoOpenReservations(gateway.store, workspaceId);
		await expectLedgerReconciles(gateway.store, workspaceId);
	}
	gateway.simulator.clearFaults();
	gateway.simulator.clearRequests();
});

interface Target {
	providerId: string;
	model: string;
}

const REFERENCE: Target = { providerId: "sim-sg", model: "gpt-4o-mini" };
const TARGETS: Target[] = [
	{ providerId: "sim-anthropic", model: "claude-sonnet-4" },
	{ providerId: "sim-bedrock-sg", model: "claude-sonnet-4" },
];

/** Creates an SDK client whose workspace may use only the target's provider. */
async function clientFor(target: Target): Promise<OpenAI> {
	const policy: WorkspacePolicy = {
		allowedRegions: ["SG", "US", "EU", "global"],
		retention: "any",
		allowedProviders: [target.providerId],
		logging: "metadata",
	};
	const { key, workspace } = await createTestKey(gateway.store, { policy });
	workspaces.push(workspace.workspaceId);
	return new OpenAI({ baseURL: gateway.baseUrl, apiKey: key, maxRetries: 0 });
}

const weatherTool = {
	type: "function" as const,
	function: {
		name: "get_weather",
		description: "Current weather of a city",
		parameters: {
			type: "object",
			properties: { city: { type: "string" } },
			required: ["city"],
		},
	},
};

const plainRequest = {
	messages: [
		{ role: "system" as const, content: "Be brief." },
		{ role: "user" as const, content: "Say hello [sim tokens=12]" },
	],
};

const toolRequest = {
	messages: [{ role: "user" as const, content: "please call get_weather" }],
	tools: [weatherTool],
};

async function complete(
	target: Target,
	request: Omit<ChatCompletionCreateParamsNonStreaming, "model">,
): Promise<ChatCompletion> {
	const client = await clientFor(target);
	return client.chat.completions.create({ ...request, model: target.model });
}

async function streamChunks(
	target: Target,
	request: Omit<ChatCompletionCreateParamsNonStreaming, "model">,
): Promise<ChatCompletionChunk[]> {
	const client = await clientFor(target);
	const stream = await client.chat.completions.create({
		...request,
		model: target.model,
		stream: true,
		stream_options: { include_usage: true },
	});
	const chunks: ChatCompletionChunk[] = [];
	for await (const chunk of stream) chunks.push(chunk);
	return chunks;
}

function servedBy(providerId: string): number {
	return gateway.simulator.requests(providerId).length;
}

describe.each(TARGETS)("chat through $providerId", (target) => {
	it("answers a plain request", async () => {
		const reference = await complete(REFERENCE, plainRequest);

		const completion = await complete(target, plainRequest);

		expect(servedBy(target.providerId)).toBe(1);
		expect(completion.object).toBe("chat.completion");
		expect(completion.model).toBe("claude-sonnet-4");
		expect(Object.keys(completion).sort()).toEqual(
			Object.keys(reference).sort(),
		);
		const [choice] = completion.choices;
		expect(choice?.message.role).toBe("assistant");
		expect(choice?.message.content).toBe(reference.choices[0]?.message.content);
		expect(choice?.finish_reason).toBe("stop");
		expect(completion.usage?.prompt_tokens).toBe(
			reference.usage?.prompt_tokens,
		);
		expect(completion.usage?.completion_tokens).toBe(12);
	});

	it("streams a plain request", async () => {
		const reference = await streamChunks(REFERENCE, plainRequest);

		const chunks = await streamChunks(target, plainRequest);

		expect(servedBy(target.providerId)).toBe(1);
		expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
		const text = (list: ChatCompletionChunk[]) =>
			list.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
		expect(text(chunks)).toBe(text(reference));
		const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
		expect(finish?.choices[0]?.finish_reason).toBe("stop");
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage?.prompt_tokens).toBe(
			reference.at(-1)?.usage?.prompt_tokens,
		);
		expect(last?.usage?.completion_tokens).toBe(12);
	});

	it("returns a tool call", async () => {
		const reference = await complete(REFERENCE, toolRequest);

		const completion = await complete(target, toolRequest);

		const [choice] = completion.choices;
		expect(choice?.finish_reason).toBe("tool_calls");
		expect(choice?.message.content).toBeNull();
		const [call] = choice?.message.tool_calls ?? [];
		expect(call?.type).toBe("function");
		expect(call?.id).toEqual(expect.any(String));
		const fn = call?.type === "function" ? call.function : undefined;
		const referenceCall = reference.choices[0]?.message.tool_calls?.[0];
		const referenceFn =
			referenceCall?.type === "function" ? referenceCall.function : undefined;
		expect(fn?.name).toBe("get_weather");
		expect(JSON.parse(fn?.arguments ?? "")).toEqual(
			JSON.parse(referenceFn?.arguments ?? ""),
		);
	});

	it("streams a tool call", async () => {
		const chunks = await streamChunks(target, toolRequest);

		const deltas = chunks.flatMap(
			(chunk) => chunk.choices[0]?.delta.tool_calls ?? [],
		);
		expect(deltas[0]?.index).toBe(0);
		expect(deltas[0]?.id).toEqual(expect.any(String));
		expect(deltas[0]?.type).toBe("function");
		expect(deltas[0]?.function?.name).toBe("get_weather");
		const args = deltas
			.map((delta) => delta.function?.arguments ?? "")
			.join("");
		expect(JSON.parse(args)).toEqual({ city: "city-1" });
		const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
		expect(finish?.choices[0]?.finish_reason).toBe("tool_calls");
	});

	it("completes a tool round trip", async () => {
		const client = await clientFor(target);
		const first = await client.chat.completions.create({
			...toolRequest,
			model: target.model,
		});
		const message = first.choices[0]?.message;
		const call = message?.tool_calls?.[0];

		const second = await client.chat.completions.create({
			model: target.model,
			tools: [weatherTool],
			messages: [
				...toolRequest.messages,
				{
					role: "assistant",
					content: null,
					tool_calls: message?.tool_calls ?? [],
				},
				{ role: "tool", tool_call_id: call?.id ?? "", content: "sunny" },
			],
		});

		expect(second.choices[0]?.message.content).toBe("Echo: sunny");
		expect(second.choices[0]?.finish_reason).toBe("stop");
	});
});

describe("claude-sonnet-4 fallback", () => {
	it("moves from Anthropic to Bedrock", async () => {
		gateway.simulator.setFault("sim-anthropic", { status: 529 });
		const { key, workspace } = await createTestKey(gateway.store, {
			policy: {
				allowedRegions: ["SG", "US", "EU", "global"],
				retention: "any",
				logging: "metadata",
			},
		});
		workspaces.push(workspace.workspaceId);
		const client = new OpenAI({
			baseURL: gateway.baseUrl,
			apiKey: key,
			maxRetries: 0,
		});

		const completion = await client.chat.completions.create({
			...plainRequest,
			model: "claude-sonnet-4",
		});

		expect(completion.choices[0]?.message.content).toMatch(/^Echo: Say hello/);
		expect(servedBy("sim-anthropic")).toBe(1);
		expect(servedBy("sim-bedrock-sg")).toBe(1);
	});
});
