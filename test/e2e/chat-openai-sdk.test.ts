import OpenAI, { type APIError } from "openai";
import { describe, expect, it } from "vitest";
import { getBalance } from "../../functions/store/credit.ts";
import { listUsageEvents } from "../../functions/store/usage.ts";
import { readKey, useChatGateway } from "../setup/gateway.ts";

const chat = useChatGateway();
const { newKey, client } = chat;

const hello = [{ role: "user" as const, content: "Say hello [sim tokens=12]" }];

describe("chat completions", () => {
	it("answers a plain request", async () => {
		const { key, workspace } = await newKey();

		const { data, response } = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: hello })
			.withResponse();

		expect(data.object).toBe("chat.completion");
		expect(data.model).toBe("gpt-4o-mini");
		expect(data.choices[0]?.message.role).toBe("assistant");
		expect(data.choices[0]?.message.content).toMatch(/^Echo: Say hello/);
		expect(data.choices[0]?.finish_reason).toBe("stop");
		expect(data.usage?.completion_tokens).toBe(12);
		expect(response.headers.get("x-request-id")).toMatch(/^req_/);
		const cost = (data.usage as unknown as { cost: number }).cost;
		expect(cost).toBeGreaterThan(0);
		const balance = await getBalance(chat.gateway.store, workspace.workspaceId);
		expect(balance?.availableMicroUsd).toBe(
			10_000_000 - Math.round(cost * 1_000_000),
		);
	});

	it("streams with usage when asked", async () => {
		const { key } = await newKey();

		const stream = await client(key).chat.completions.create({
			model: "gpt-4o-mini",
			messages: hello,
			stream: true,
			stream_options: { include_usage: true },
		});
		const chunks = [];
		for await (const chunk of stream) chunks.push(chunk);

		expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
		const text = chunks
			.map((chunk) => chunk.choices[0]?.delta.content ?? "")
			.join("");
		expect(text).toMatch(/^Echo: Say hello/);
		const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
		expect(finish?.choices[0]?.finish_reason).toBe("stop");
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage?.completion_tokens).toBe(12);
	});

	it("omits usage unless asked", async () => {
		const { key } = await newKey();

		const stream = await client(key).chat.completions.create({
			model: "gpt-4o-mini",
			messages: hello,
			stream: true,
		});
		const chunks = [];
		for await (const chunk of stream) chunks.push(chunk);

		expect(chunks.some((chunk) => chunk.usage)).toBe(false);
	});

	it("charges streamed and plain alike", async () => {
		const plain = await newKey();
		const streamed = await newKey();
		const request = {
			model: "gpt-4o",
			messages: [
				{ role: "user" as const, content: "Same words [sim tokens=40]" },
			],
		};

		const completion = await client(plain.key).chat.completions.create(request);
		const stream = await client(streamed.key).chat.completions.create({
			...request,
			stream: true,
			stream_options: { include_usage: true },
		});
		let streamedCost: number | undefined;
		for await (const chunk of stream) {
			if (chunk.usage)
				streamedCost = (chunk.usage as unknown as { cost: number }).cost;
		}

		expect(streamedCost).toBe(
			(completion.usage as unknown as { cost: number }).cost,
		);
		const plainUsage = await listUsageEvents(
			chat.gateway.store,
			plain.workspace.workspaceId,
		);
		const streamedUsage = await listUsageEvents(
			chat.gateway.store,
			streamed.workspace.workspaceId,
		);
		expect(streamedUsage[0]?.chargeMicroUsd).toBe(
			plainUsage[0]?.chargeMicroUsd,
		);
	});

	it("prices cached tokens exactly", async () => {
		const { key, workspace } = await newKey();
		const directive = "[sim tokens=300 cached=1920]";
		const padding = "a".repeat(8008 - directive.length - 1);

		const completion = await client(key).chat.completions.create({
			model: "gpt-4o",
			messages: [{ role: "user", content: `${padding} ${directive}` }],
		});

		expect(completion.usage?.prompt_tokens).toBe(2006);
		expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1920);
		expect(completion.usage?.completion_tokens).toBe(300);
		expect((completion.usage as unknown as { cost: number }).cost).toBe(
			0.005615,
		);
		const [usage] = await listUsageEvents(
			chat.gateway.store,
			workspace.workspaceId,
		);
		expect(usage?.chargeMicroUsd).toBe(5_615);
	});

	it("streams tool-call deltas", async () => {
		const { key } = await newKey();

		const stream = await client(key).chat.completions.create({
			model: "gpt-4o-mini",
			stream: true,
			messages: [
				{ role: "user", content: "Please call get_weather for Singapore" },
			],
			tools: [
				{
					type: "function",
					function: {
						name: "get_weather",
						parameters: {
							type: "object",
							properties: { city: { type: "string" } },
							required: ["city"],
						},
					},
				},
			],
		});
		const deltas = [];
		let finishReason: string | null | undefined;
		for await (const chunk of stream) {
			deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
			finishReason ??= chunk.choices[0]?.finish_reason;
		}

		expect(deltas[0]?.index).toBe(0);
		expect(deltas[0]?.id).toBeTruthy();
		expect(deltas[0]?.function?.name).toBe("get_weather");
		const argumentsText = deltas
			.map((delta) => delta.function?.arguments ?? "")
			.join("");
		expect(JSON.parse(argumentsText)).toEqual({ city: "city-1" });
		expect(finishReason).toBe("tool_calls");
	});

	it("returns tool calls without streaming", async () => {
		const { key } = await newKey();

		const completion = await client(key).chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "hi" }],
			tool_choice: "required",
			tools: [
				{
					type: "function",
					function: {
						name: "lookup",
						parameters: { type: "object", properties: {} },
					},
				},
			],
		});

		const call = completion.choices[0]?.message.tool_calls?.[0];
		expect(call?.type).toBe("function");
		expect(call?.type === "function" ? call.function.name : undefined).toBe(
			"lookup",
		);
		expect(completion.choices[0]?.message.content).toBeNull();
		expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
	});
});

describe("chat completions errors", () => {
	it("rejects an unknown key", async () => {
		const error = await client("sk-gag-global-notarealkey")
			.chat.completions.create({ model: "gpt-4o-mini", messages: hello })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
		expect((error as APIError).code).toBe("invalid_api_key");
	});

	it("names the invalid field", async () => {
		const { key } = await newKey();

		const error = await client(key)
			.chat.completions.create({
				model: "gpt-4o-mini",
				messages: hello,
				temperature: 7,
			})
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.BadRequestError);
		expect((error as APIError).param).toBe("temperature");
	});

	it("reports an unknown model", async () => {
		const { key } = await newKey();

		const error = await client(key)
			.chat.completions.create({ model: "gpt-9", messages: hello })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.NotFoundError);
		expect((error as APIError).code).toBe("model_not_found");
	});

	it("rejects a key from another cell", async () => {
		const { key } = await newKey({ cell: "sg" });

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: hello })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
		expect((error as APIError).message).toContain('cell "sg"');
	});

	it("rejects a costly stream on a small balance", async () => {
		const { key, workspace } = await newKey({ creditUsd: "0.01" });

		const error = await client(key)
			.chat.completions.create({
				model: "gpt-4o",
				messages: hello,
				stream: true,
				max_tokens: 100_000,
			})
			.catch((caught: unknown) => caught);

		expect((error as APIError).status).toBe(402);
		expect((error as APIError).message).toMatch(
			/may cost up to \$0\.16\d+ and the workspace has \$0\.01 available/,
		);
		expect(chat.gateway.simulator.requests()).toEqual([]);
		expect(
			(await getBalance(chat.gateway.store, workspace.workspaceId))
				?.availableMicroUsd,
		).toBe(10_000);
	});

	it("clamps max_tokens when unset", async () => {
		const { key, workspace } = await newKey({ creditUsd: "0.001" });

		const completion = await client(key).chat.completions.create({
			model: "gpt-4o",
			messages: hello,
		});

		expect(completion.choices[0]?.finish_reason).toBe("stop");
		const balance = await getBalance(chat.gateway.store, workspace.workspaceId);
		expect(balance?.availableMicroUsd).toBeGreaterThanOrEqual(0);
		const [request] = chat.gateway.simulator.requests();
		expect(request?.maxTokens).toBeLessThan(4096);
	});

	it("admits at most the key budget in parallel", async () => {
		const { key, item } = await newKey({ budgetUsd: "0.01" });
		const openai = client(key);

		const results = await Promise.allSettled(
			Array.from({ length: 10 }, () =>
				openai.chat.completions.create({
					model: "gpt-4o",
					messages: [{ role: "user", content: "hi [sim ttft=1500]" }],
					max_tokens: 390,
				}),
			),
		);

		const served = results.filter(
			(result) => result.status === "fulfilled",
		).length;
		const refused = results.filter(
			(result) =>
				result.status === "rejected" &&
				(result.reason as APIError).status === 402,
		).length;
		expect(served).toBe(2);
		expect(refused).toBe(8);
		expect(chat.gateway.simulator.requests()).toHaveLength(2);
		const stored = await readKey(chat.gateway.store, item);
		expect(stored.spentMicroUsd).toBeLessThanOrEqual(10_000);
	});

	it("returns 429 with Retry-After past the rate limit", async () => {
		const { key } = await newKey({ rateLimit: { requestsPerMinute: 1 } });
		const openai = client(key);

		await openai.chat.completions.create({
			model: "gpt-4o-mini",
			messages: hello,
		});
		const error = await openai.chat.completions
			.create({ model: "gpt-4o-mini", messages: hello })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.RateLimitError);
		expect(
			Number((error as APIError).headers?.get("retry-after")),
		).toBeGreaterThan(0);
		expect((error as APIError).headers?.get("x-ratelimit-limit-requests")).toBe(
			"1",
		);
	});
});
