import OpenAI, { type APIError } from "openai";
import { describe, expect, it } from "vitest";
import { listUsageEvents } from "../../functions/store/usage.ts";
import { useChatGateway } from "../setup/gateway.ts";

const chat = useChatGateway();
const { newKey, client } = chat;

async function auditOf(
	key: string,
	requestId: string | null,
): Promise<Record<string, unknown>> {
	const response = await fetch(
		`${chat.gateway.baseUrl}/requests/${requestId}`,
		{
			headers: { authorization: `Bearer ${key}` },
		},
	);
	expect(response.status).toBe(200);
	return (await response.json()) as Record<string, unknown>;
}

const question = [
	{ role: "user" as const, content: "Fallback please [sim tokens=8]" },
];

describe("fallback", () => {
	it("moves past a 503 with one charge", async () => {
		const { key, workspace } = await newKey();
		chat.gateway.simulator.setFault("sim-sg", { status: 503 });

		const { data, response } = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: question })
			.withResponse();

		expect(data.choices[0]?.message.content).toMatch(/^Echo: Fallback/);
		expect(response.headers.get("x-gateway-provider")).toBe("sim-us");
		const usage = await listUsageEvents(
			chat.gateway.store,
			workspace.workspaceId,
		);
		expect(usage).toHaveLength(1);
		expect(usage[0]?.providerId).toBe("sim-us");
		expect(usage[0]?.attempts).toBe(2);
		const audit = await auditOf(key, response.headers.get("x-request-id"));
		expect(audit.finalRoute).toBe("sim-us/gpt-4o-mini");
		expect(audit.attempts).toMatchObject([
			{ providerId: "sim-sg", outcome: "server_error", status: 503 },
			{ providerId: "sim-us", outcome: "served" },
		]);
	});

	it("falls back on a stream reset before content", async () => {
		const { key } = await newKey();
		chat.gateway.simulator.setFault("sim-sg", { resetAfterChunks: 0 });

		const stream = await client(key).chat.completions.create({
			model: "gpt-4o-mini",
			messages: question,
			stream: true,
		});
		let text = "";
		for await (const chunk of stream)
			text += chunk.choices[0]?.delta.content ?? "";

		expect(text).toMatch(/^Echo: Fallback/);
		expect(
			chat.gateway.simulator.requests().map((request) => request.provider),
		).toEqual(["sim-sg", "sim-us"]);
	});

	it("does not retry a provider 400", async () => {
		const { key, workspace } = await newKey();
		chat.gateway.simulator.setFault("sim-sg", {
			status: 400,
			message: "max_tokens is too large for this model",
		});

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: question })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.BadRequestError);
		expect((error as APIError).message).toContain(
			"max_tokens is too large for this model",
		);
		expect(chat.gateway.simulator.requests()).toHaveLength(1);
		expect(
			await listUsageEvents(chat.gateway.store, workspace.workspaceId),
		).toEqual([]);
	});

	it("returns the last 429 with Retry-After", async () => {
		const { key } = await newKey();
		for (const provider of ["sim-sg", "sim-us", "sim-global"]) {
			chat.gateway.simulator.setFault(provider, {
				status: 429,
				retryAfterSeconds: 7,
			});
		}

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: question })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.RateLimitError);
		expect((error as APIError).headers?.get("retry-after")).toBe("7");
	});

	it("keeps no-retention workspaces off retaining providers", async () => {
		const { key } = await newKey({
			policy: {
				allowedRegions: ["SG", "US", "global"],
				retention: "none",
				logging: "metadata",
			},
		});
		chat.gateway.simulator.setFault("sim-sg", { status: 503 });

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o-mini", messages: question })
			.catch((caught: unknown) => caught);

		expect((error as APIError).status).toBe(503);
		expect(
			chat.gateway.simulator.requests().map((request) => request.provider),
		).toEqual(["sim-sg"]);
	});

	it("never swaps the model a key may use", async () => {
		const { key } = await newKey({ allowedModels: ["gpt-4o"] });
		chat.gateway.simulator.setFault("sim-us", { status: 503 });
		chat.gateway.simulator.setFault("sim-us-zdr", { status: 503 });

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o", messages: question })
			.catch((caught: unknown) => caught);

		expect((error as APIError).status).toBe(503);
		expect(
			new Set(
				chat.gateway.simulator.requests().map((request) => request.model),
			),
		).toEqual(new Set(["gpt-4o"]));
	});

	it("ends a broken stream with an error event", async () => {
		const { key, workspace } = await newKey();
		chat.gateway.simulator.setFault("sim-sg", { streamErrorAfterChunks: 5 });

		const response = await fetch(`${chat.gateway.baseUrl}/chat/completions`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${key}`,
				"content-type": "application/json",
			},
			body: JSON.stringify({
				model: "gpt-4o-mini",
				messages: question,
				stream: true,
			}),
		});
		const body = await response.text();

		expect(response.status).toBe(200);
		expect(body).toContain('"code":"provider_failed_mid_stream"');
		expect(body).not.toContain("[DONE]");
		expect(body).not.toContain('"finish_reason":"stop"');
		const [usage] = await listUsageEvents(
			chat.gateway.store,
			workspace.workspaceId,
		);
		expect(usage?.status).toBe("provider_failed_mid_stream");
		expect(usage?.chargeMicroUsd).toBeGreaterThan(0);
	});
});

describe("routing errors", () => {
	it("explains a policy with no route", async () => {
		const { key } = await newKey({
			policy: { allowedRegions: ["SG"], retention: "any", logging: "metadata" },
		});

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o", messages: question })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
		expect((error as APIError).code).toBe("no_compliant_route");
		expect((error as APIError).message).toContain(
			"sim-us/gpt-4o: processing region is not in the workspace's allowed regions",
		);
		expect(chat.gateway.simulator.requests()).toEqual([]);
	});

	it("refuses a model outside the key allowlist", async () => {
		const { key } = await newKey({ allowedModels: ["gpt-4o-mini"] });

		const error = await client(key)
			.chat.completions.create({ model: "gpt-4o", messages: question })
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
		expect((error as APIError).code).toBe("model_not_allowed");
	});
});
