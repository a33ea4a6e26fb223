/**
 * Secrets and prompts never leak. The gateway runs as a child process at
 * DEBUG log level, on a table of its own. Every prompt carries a canary
 * string, which the simulator echoes back in its completions, and every API
 * key is a secret to look for. After a run over success and error paths,
 * no log line, stored item or error body may contain either.
 *
 * Idempotency records (`sk` starting `IDEM#`) are left out of the table
 * check: they store the completion for replay by design, and the
 * completion echoes the prompt here.
 */
import { randomUUID } from "node:crypto";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import { parseUsd } from "../../shared/money.ts";
import { isolatedStore, newWorkspace } from "../setup/store.ts";
import { type GatewayChild, startGatewayChild } from "./gateway-child.ts";

const CANARY = `CANARY-${randomUUID()}`;

interface Sent {
	label: string;
	status: number;
	text: string;
	/** Whether the response is an error whose body must not echo secrets. */
	isError: boolean;
}

let store: Store;
let gateway: GatewayChild;
const logLines: string[] = [];
const secrets: string[] = [];
let apiKey: string;
let budgetKey: string;
let sgKey: string;

beforeAll(async () => {
	store = await isolatedStore("leaks");
	const workspace = await newWorkspace(store, {
		creditUsd: "5",
		cell: "global",
	});
	for (const budgetUsd of [undefined, "0.0001"]) {
		const created = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: "global",
			name: "leak test key",
			scopes: ["chat.completions", "usage.read"],
			actor: "test",
			...(budgetUsd ? { budgetMicroUsd: parseUsd(budgetUsd) } : {}),
		});
		secrets.push(created.key);
	}
	[apiKey = "", budgetKey = ""] = secrets;
	const foreign = await newWorkspace(store, { creditUsd: "1", cell: "sg" });
	const foreignKey = await createApiKey(store, {
		workspaceId: foreign.workspaceId,
		cell: "sg",
		name: "key of another cell",
		scopes: ["chat.completions"],
		actor: "test",
	});
	secrets.push(foreignKey.key);
	sgKey = foreignKey.key;
	gateway = await startGatewayChild({
		env: { TABLE_NAME: store.tableName, POWERTOOLS_LOG_LEVEL: "DEBUG" },
		onLine: (line) => logLines.push(line),
	});
});

afterAll(async () => {
	await gateway?.stop();
});

/** Strings that must not appear: the canary, each key and its secret part. */
function needles(): string[] {
	return [
		CANARY,
		...secrets.flatMap((key) => [key, key.slice(-38), key.slice(-30, -8)]),
	];
}

function leaksIn(text: string): string[] {
	return needles().filter((needle) => text.includes(needle));
}

async function send(
	label: string,
	body: unknown,
	options: { key?: string; headers?: Record<string, string> } = {},
): Promise<Sent> {
	const response = await fetch(`${gateway.apiUrl}/chat/completions`, {
		method: "POST",
		headers: {
			authorization: `Bearer ${options.key ?? apiKey}`,
			"content-type": "application/json",
			...options.headers,
		},
		body: typeof body === "string" ? body : JSON.stringify(body),
	});
	const text = await response.text();
	const isError =
		response.status !== 200 || text.includes('"error":{"message"');
	return { label, status: response.status, text, isError };
}

async function setFault(provider: string, fault: Record<string, unknown>) {
	const response = await fetch(`${gateway.simulatorUrl}/__control/faults`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ provider, fault }),
	});
	expect(response.status).toBe(200);
}

function prompt(extra = "") {
	return [
		{ role: "system", content: `You keep the secret ${CANARY}.` },
		{ role: "user", content: `Repeat ${CANARY} please. ${extra}` },
	];
}

async function scanTable(): Promise<Record<string, unknown>[]> {
	const items: Record<string, unknown>[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await store.doc.send(
			new ScanCommand({
				TableName: store.tableName,
				ExclusiveStartKey: startKey,
				ConsistentRead: true,
			}),
		);
		items.push(...((page.Items ?? []) as Record<string, unknown>[]));
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return items;
}

describe("secrets and prompts", () => {
	it("never reach logs or storage", { timeout: 120_000 }, async () => {
		const sent: Sent[] = [];
		const models = ["gpt-4o-mini", "claude-sonnet-4", "llama-3.3-70b"];
		for (const model of models) {
			sent.push(
				await send(`plain ${model}`, { model, messages: prompt() }),
				await send(`streamed ${model}`, {
					model,
					messages: prompt(),
					stream: true,
					stream_options: { include_usage: true },
				}),
			);
		}
		sent.push(
			await send(
				"idempotent",
				{ model: "gpt-4o-mini", messages: prompt() },
				{ headers: { "idempotency-key": `leak-${randomUUID()}` } },
			),
			await send("invalid role", {
				model: "gpt-4o-mini",
				messages: [{ role: CANARY, content: CANARY }],
			}),
			await send("invalid content", {
				model: "gpt-4o-mini",
				messages: [{ role: "user", content: { text: CANARY } }],
			}),
			await send("invalid tool name", {
				model: "gpt-4o-mini",
				messages: prompt(),
				tools: [{ type: "function", function: { name: CANARY.repeat(3) } }],
			}),
			await send("invalid response format", {
				model: "gpt-4o-mini",
				messages: prompt(),
				response_format: { type: CANARY },
			}),
			await send("invalid stop", {
				model: "gpt-4o-mini",
				messages: prompt(),
				stop: [CANARY, CANARY, CANARY, CANARY, CANARY],
			}),
			await send("invalid JSON", `{"model":"gpt-4o-mini","x":"${CANARY}`),
			await send("unknown model", {
				model: "no-such-model",
				messages: prompt(),
			}),
			await send(
				"key budget too small",
				{ model: "gpt-4o-mini", messages: prompt(), max_tokens: 4_000 },
				{ key: budgetKey },
			),
			await send(
				"bad checksum",
				{ model: "gpt-4o-mini", messages: prompt() },
				{ key: `${apiKey.slice(0, -1)}${apiKey.endsWith("A") ? "B" : "A"}` },
			),
			await send(
				"wrong cell",
				{ model: "gpt-4o-mini", messages: prompt() },
				{ key: sgKey },
			),
		);
		await setFault("sim-sg", {
			status: 400,
			message: "Invalid parameter: temperature is not supported.",
			count: 1,
		});
		sent.push(
			await send("provider 400", { model: "gpt-4o-mini", messages: prompt() }),
		);
		await setFault("sim-sg", {
			streamErrorAfterChunks: 2,
			message: "Upstream overloaded.",
			count: 1,
		});
		sent.push(
			await send("provider fails mid-stream", {
				model: "gpt-4o-mini",
				messages: prompt("[sim tokens=50]"),
				stream: true,
			}),
		);
		// A provider may quote the prompt in its error message. The gateway
		// passes a provider's 400 message back to the caller, who sent that
		// prompt, so only logs and storage are checked for these two.
		await setFault("sim-sg", {
			status: 400,
			message: `Invalid content: '${CANARY}' is not allowed.`,
			count: 1,
		});
		const quotedPrompt = [
			await send("provider 400 quoting the prompt", {
				model: "gpt-4o-mini",
				messages: prompt(),
			}),
		];
		await setFault("sim-sg", {
			streamErrorAfterChunks: 2,
			message: `Content '${CANARY}' was flagged.`,
			count: 1,
		});
		quotedPrompt.push(
			await send("mid-stream error quoting the prompt", {
				model: "gpt-4o-mini",
				messages: prompt("[sim tokens=50]"),
				stream: true,
			}),
		);
		await gateway.stop();

		const served = sent.filter((response) => !response.isError);
		const errors = sent.filter((response) => response.isError);
		const items = await scanTable();
		const checked = items.filter(
			(item) => !String(item.sk).startsWith("IDEM#"),
		);
		const entities = new Set(checked.map((item) => String(item.entity)));

		expect(
			served.map((response) => response.label),
			"served requests",
		).toHaveLength(7);
		for (const response of served) {
			expect(response.text, `${response.label} echoes the canary`).toContain(
				CANARY,
			);
		}
		expect(errors.length, "error responses").toBeGreaterThanOrEqual(11);
		expect(
			quotedPrompt.map((response) => response.status),
			"statuses of provider errors quoting the prompt",
		).toEqual([400, 200]);
		for (const response of errors) {
			expect(leaksIn(response.text), `error body of ${response.label}`).toEqual(
				[],
			);
			expect(response.status, response.label).toBeLessThan(500);
		}
		expect(logLines.length, "log lines printed").toBeGreaterThan(20);
		expect(
			logLines.filter((line) => leaksIn(line).length > 0),
			"log lines with a canary or key secret",
		).toEqual([]);
		expect([...entities]).toEqual(
			expect.arrayContaining([
				"usageEvent",
				"receipt",
				"ledgerEntry",
				"auditEvent",
				"apiKey",
			]),
		);
		expect(
			checked.filter((item) => leaksIn(JSON.stringify(item)).length > 0),
			"stored items with a canary or key secret",
		).toEqual([]);
		console.log(
			[
				`leaks: ${sent.length + quotedPrompt.length} requests (${served.length} served, ${errors.length + quotedPrompt.length} errors, including provider 400s and mid-stream failures, two of them quoting the prompt)`,
				`  ${logLines.length} log lines at DEBUG and ${checked.length} stored items (${items.length - checked.length} idempotency records left out) checked for the canary and ${secrets.length} key secrets: none found`,
			].join("\n"),
		);
	});
});
