import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { readCatalogFile } from "../../functions/catalog/load.ts";
import { revokeApiKey } from "../../functions/store/api-keys.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newLedgerEntryId } from "../../functions/store/ids.ts";
import { listUsageEvents } from "../../functions/store/usage.ts";
import { priceTokens } from "../../shared/pricing.ts";
import { keys } from "../../shared/table.ts";
import { useChatGateway } from "../setup/gateway.ts";

const chat = useChatGateway();
const { newKey } = chat;

function post(
	key: string,
	body: unknown,
	headers: Record<string, string> = {},
	signal?: AbortSignal,
) {
	return fetch(`${chat.gateway.baseUrl}/chat/completions`, {
		method: "POST",
		headers: {
			authorization: `Bearer ${key}`,
			"content-type": "application/json",
			...headers,
		},
		body: typeof body === "string" ? body : JSON.stringify(body),
		signal,
	});
}

async function waitFor<T>(
	read: () => Promise<T | undefined>,
	timeoutMs = 10_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

describe("client disconnect", () => {
	it("bills delivered tokens and settles", async () => {
		const { key, workspace } = await newKey();
		const controller = new AbortController();
		const response = await post(
			key,
			{
				model: "gpt-4o-mini",
				stream: true,
				messages: [{ role: "user", content: "long [sim tokens=500 tps=400]" }],
			},
			{},
			controller.signal,
		);
		const reader = (response.body as ReadableStream<Uint8Array>).getReader();
		const decoder = new TextDecoder();
		let buffer = "";
		let delivered = 0;
		while (delivered < 300) {
			const { value, done } = await reader.read();
			if (done) break;
			buffer += decoder.decode(value, { stream: true });
			const events = buffer.split("\n\n");
			buffer = events.pop() ?? "";
			for (const event of events)
				if (event.includes('"content":"')) delivered++;
		}
		controller.abort();

		const usage = await waitFor(
			async () =>
				(await listUsageEvents(chat.gateway.store, workspace.workspaceId))[0],
		);
		expect(delivered).toBeGreaterThanOrEqual(300);
		expect(usage.status).toBe("client_disconnected");
		expect(usage.usageEstimated).toBe(true);
		expect(usage.completionTokens).toBeGreaterThanOrEqual(300);
		expect(usage.completionTokens).toBeLessThan(500);
		const route = readCatalogFile("global", "infra/catalog/local.json").find(
			(r) => r.id === "sim-sg/gpt-4o-mini",
		);
		const floor = priceTokens(
			{
				promptTokens: 0,
				cachedPromptTokens: 0,
				completionTokens: 300,
				reasoningTokens: 0,
			},
			route?.price ?? {
				inputMicroUsdPerMillionTokens: 0,
				cachedInputMicroUsdPerMillionTokens: 0,
				outputMicroUsdPerMillionTokens: 0,
			},
		);
		expect(usage.chargeMicroUsd).toBeGreaterThanOrEqual(floor);
	});
});

describe("idempotency", () => {
	it("lets a retry run after a disconnect", async () => {
		const { key, workspace } = await newKey();
		const streamed = {
			model: "gpt-4o-mini",
			stream: true,
			messages: [{ role: "user", content: "cut me [sim tokens=200 tps=100]" }],
		};
		const controller = new AbortController();
		const first = await post(
			key,
			streamed,
			{ "idempotency-key": "cut-1" },
			controller.signal,
		);
		const reader = (first.body as ReadableStream<Uint8Array>).getReader();
		await reader.read();
		await reader.read();
		controller.abort();
		await waitFor(
			async () =>
				(await listUsageEvents(chat.gateway.store, workspace.workspaceId))[0],
		);

		const same = await post(key, streamed, { "idempotency-key": "cut-1" });
		expect(same.status).toBe(200);
		expect(same.headers.get("idempotent-replayed")).toBeNull();
		await same.text();
		expect(
			await listUsageEvents(chat.gateway.store, workspace.workspaceId),
		).toHaveLength(2);
	});

	const body = {
		model: "gpt-4o-mini",
		messages: [{ role: "user", content: "once only [sim tokens=5]" }],
	};

	it("replays a retry and charges once", async () => {
		const { key, workspace } = await newKey();

		const first = await post(key, body, { "idempotency-key": "order-1" });
		const second = await post(key, body, { "idempotency-key": "order-1" });

		expect(first.status).toBe(200);
		expect(second.status).toBe(200);
		expect(second.headers.get("idempotent-replayed")).toBe("true");
		const firstBody = await first.json();
		expect(await second.json()).toEqual(firstBody);
		expect(
			await listUsageEvents(chat.gateway.store, workspace.workspaceId),
		).toHaveLength(1);
		expect(chat.gateway.simulator.requests()).toHaveLength(1);
	});

	it("rejects a reused key with another body", async () => {
		const { key } = await newKey();

		await post(key, body, { "idempotency-key": "order-2" });
		const reused = await post(
			key,
			{ ...body, temperature: 0.5 },
			{ "idempotency-key": "order-2" },
		);

		expect(reused.status).toBe(409);
		expect((await reused.json()).error.code).toBe("idempotency_key_reused");
	});

	it("replays a streamed retry", async () => {
		const { key, workspace } = await newKey();
		const streamed = { ...body, stream: true };

		const first = await (
			await post(key, streamed, { "idempotency-key": "order-3" })
		).text();
		const second = await post(key, streamed, { "idempotency-key": "order-3" });
		const replayed = await second.text();

		expect(second.headers.get("idempotent-replayed")).toBe("true");
		const text = (stream: string) =>
			[...stream.matchAll(/"content":"([^"]*)"/g)]
				.map((match) => match[1])
				.join("");
		expect(text(replayed)).toBe(text(first));
		expect(replayed.trim().endsWith("data: [DONE]")).toBe(true);
		expect(
			await listUsageEvents(chat.gateway.store, workspace.workspaceId),
		).toHaveLength(1);
	});
});

describe("overlapped reservation", () => {
	it("refuses a stale-rich workspace without charge", async () => {
		const { key, workspace } = await newKey({ creditUsd: "10" });
		const body = {
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "warm [sim tokens=3]" }],
		};
		expect((await post(key, body)).status).toBe(200);
		const before = await getBalance(chat.gateway.store, workspace.workspaceId);
		const entryId = newLedgerEntryId();
		await chat.gateway.store.doc.send(
			new UpdateCommand({
				TableName: chat.gateway.store.tableName,
				Key: keys.balance(workspace.workspaceId),
				UpdateExpression: "SET availableMicroUsd = :zero",
				ExpressionAttributeValues: { ":zero": 0 },
			}),
		);
		await chat.gateway.store.doc.send(
			new PutCommand({
				TableName: chat.gateway.store.tableName,
				Item: {
					...keys.ledgerEntry(workspace.workspaceId, entryId),
					entity: "ledgerEntry",
					entryId,
					workspaceId: workspace.workspaceId,
					kind: "adjustment",
					amountMicroUsd: -(before?.availableMicroUsd ?? 0),
					createdAt: new Date().toISOString(),
				},
			}),
		);

		const refused = await post(key, { ...body, stream: true });

		expect(refused.status).toBe(402);
		expect(
			chat.gateway.simulator.requests(),
			"the provider call started alongside the reservation",
		).toHaveLength(2);
		expect(
			(await listUsageEvents(chat.gateway.store, workspace.workspaceId)).length,
		).toBe(1);
		expect(
			(await getBalance(chat.gateway.store, workspace.workspaceId))
				?.availableMicroUsd,
		).toBe(0);
	});
});

describe("revocation", () => {
	it("refuses a revoked key at once", async () => {
		const { key, item } = await newKey();
		const body = {
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "hi" }],
		};
		expect((await post(key, body)).status).toBe(200);

		await revokeApiKey(chat.gateway.store, item.keyId, "test");
		const refused = await post(key, body);

		expect(refused.status).toBe(401);
		expect((await refused.json()).error.code).toBe("key_revoked");
	});
});

describe("bad requests", () => {
	it("rejects invalid JSON", async () => {
		const { key } = await newKey();

		const response = await post(key, "{not json");

		expect(response.status).toBe(400);
		expect((await response.json()).error.code).toBe("invalid_json");
	});

	it("rejects an oversized body", async () => {
		const { key, workspace } = await newKey();

		const response = await post(key, {
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }],
		});

		expect(response.status).toBe(413);
		expect((await response.json()).error.type).toBe("invalid_request_error");
		expect(
			(await getBalance(chat.gateway.store, workspace.workspaceId))
				?.reservedMicroUsd,
		).toBe(0);
	});

	it("rejects a missing key", async () => {
		const response = await fetch(`${chat.gateway.baseUrl}/chat/completions`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
		});

		expect(response.status).toBe(401);
		expect((await response.json()).error.code).toBe("missing_api_key");
	});
});

describe("API routes", () => {
	it("lists the models a key may use", async () => {
		const { key } = await newKey({
			allowedModels: ["gpt-4o-mini", "qwen-plus"],
		});

		const models = await new OpenAI({
			baseURL: chat.gateway.baseUrl,
			apiKey: key,
		}).models.list();

		expect(models.data.map((model) => model.id)).toEqual([
			"gpt-4o-mini",
			"qwen-plus",
		]);
	});

	it("retrieves one model", async () => {
		const { key } = await newKey({ allowedModels: ["gpt-4o-mini"] });
		const openai = new OpenAI({
			baseURL: chat.gateway.baseUrl,
			apiKey: key,
			maxRetries: 0,
		});

		const model = await openai.models.retrieve("gpt-4o-mini");
		const hidden = await openai.models
			.retrieve("gpt-4o")
			.catch((caught: unknown) => caught);

		expect(model.id).toBe("gpt-4o-mini");
		expect(model.object).toBe("model");
		expect(hidden).toBeInstanceOf(OpenAI.NotFoundError);
	});

	it("reports key, credits, usage and receipt", async () => {
		const { key, item, workspace } = await newKey({ budgetUsd: "2" });
		const openai = new OpenAI({ baseURL: chat.gateway.baseUrl, apiKey: key });
		const { response } = await openai.chat.completions
			.create({
				model: "gpt-4o-mini",
				messages: [{ role: "user", content: "bill me [sim tokens=10]" }],
			})
			.withResponse();
		const requestId = response.headers.get("x-request-id");
		const get = async (path: string) =>
			(
				await fetch(`${chat.gateway.baseUrl}${path}`, {
					headers: { authorization: `Bearer ${key}` },
				})
			).json();

		const keyInfo = await get("/key");
		const credits = await get("/credits");
		const usage = await get(`/usage?key_id=${item.keyId}`);
		const receipt = await get(`/receipts/${requestId}`);

		expect(keyInfo).toMatchObject({
			id: item.keyId,
			budget_usd: 2,
			workspace_id: workspace.workspaceId,
		});
		expect(keyInfo.spent_usd).toBeGreaterThan(0);
		expect(
			credits.available_micro_usd + keyInfo.spent_usd * 1_000_000,
		).toBeCloseTo(10_000_000, 0);
		expect(usage.data).toHaveLength(1);
		expect(usage.data[0].request_id).toBe(requestId);
		expect(receipt.amount_micro_usd).toBe(usage.data[0].charge_micro_usd);
	});

	it("hides another workspace's receipt", async () => {
		const owner = await newKey();
		const stranger = await newKey();
		const { response } = await new OpenAI({
			baseURL: chat.gateway.baseUrl,
			apiKey: owner.key,
		}).chat.completions
			.create({
				model: "gpt-4o-mini",
				messages: [{ role: "user", content: "mine" }],
			})
			.withResponse();
		const requestId = response.headers.get("x-request-id");

		for (const path of [`/receipts/${requestId}`, `/requests/${requestId}`]) {
			const reply = await fetch(`${chat.gateway.baseUrl}${path}`, {
				headers: { authorization: `Bearer ${stranger.key}` },
			});
			expect(reply.status, path).toBe(404);
		}
	});
});
