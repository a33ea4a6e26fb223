import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import { createStore } from "../../functions/store/client.ts";
import { createWorkspace } from "../../functions/store/workspaces.ts";
import { type Runtime, startRuntime } from "../setup/runtime.ts";

let runtime: Runtime;
let apiKey: string;

beforeAll(async () => {
	runtime = await startRuntime({ cell: "global" });
	const store = createStore({
		tableName: process.env.TABLE_NAME ?? "",
		endpoint: process.env.DYNAMODB_ENDPOINT,
	});
	const workspace = await createWorkspace(store, {
		name: "runtime child test",
		cell: "global",
		creditMicroUsd: 5_000_000,
		actor: "test",
	});
	const created = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell: "global",
		name: "runtime test key",
		scopes: ["chat.completions", "models.read", "usage.read"],
		actor: "test",
	});
	apiKey = created.key;
});

afterAll(async () => {
	await runtime?.stop();
});

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

describe("startRuntime", () => {
	it("serves the health route", async () => {
		const response = await fetch(`${runtime.baseUrl}/health`);

		expect(response.status).toBe(200);
	});

	it("answers unknown routes with 404", async () => {
		const response = await fetch(`${runtime.apiUrl}/unknown`);
		const body = await response.json();

		expect(response.status).toBe(404);
		expect(body.error.code).toBe("unknown_route");
	});

	it("streams a chat completion end to end", async () => {
		const client = new OpenAI({
			baseURL: runtime.apiUrl,
			apiKey,
			maxRetries: 0,
		});
		runtime.simulator.clearRequests();

		const stream = await client.chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "hello runtime" }],
			stream: true,
		});
		let text = "";
		for await (const chunk of stream) {
			text += chunk.choices[0]?.delta.content ?? "";
		}

		expect(text).toBe("Echo: hello runtime");
		expect(runtime.simulator.requests()).toHaveLength(1);
	});

	it("stops the child process", async () => {
		const local = await startRuntime();
		const pid = local.pid;

		await local.stop();

		expect(processAlive(pid)).toBe(false);
	});
});
