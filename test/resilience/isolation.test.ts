/**
 * Workspace isolation on the API: a key of workspace A reads nothing of
 * workspace B (receipts, request audit records, usage) and cannot spend
 * B's credit, whatever ids, hints or encodings it sends. Portal sessions
 * are covered by test/integration/portal-api-isolation.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBalance } from "../../functions/store/credit.ts";
import {
	createTestKey,
	startGateway,
	type TestGateway,
	type TestKey,
} from "../setup/gateway.ts";
import { readWorkspace } from "./accounting.ts";

let gateway: TestGateway;
let keyOfA: TestKey;
let keyOfB: TestKey;
const requestIdsOfB: string[] = [];
let readsTried = 0;

beforeAll(async () => {
	gateway = await startGateway();
	keyOfA = await createTestKey(gateway.store, { creditUsd: "0.000001" });
	keyOfB = await createTestKey(gateway.store, { creditUsd: "5" });
	for (const stream of [false, true]) {
		const response = await chat(keyOfB.key, {
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "private to B" }],
			stream,
		});
		await response.text();
		expect(response.status).toBe(200);
		requestIdsOfB.push(response.headers.get("x-request-id") ?? "");
	}
});

afterAll(async () => {
	await gateway?.stop();
});

function chat(
	key: string,
	body: Record<string, unknown>,
	headers: Record<string, string> = {},
): Promise<Response> {
	return fetch(`${gateway.baseUrl}/chat/completions`, {
		method: "POST",
		headers: {
			authorization: `Bearer ${key}`,
			"content-type": "application/json",
			...headers,
		},
		body: JSON.stringify(body),
	});
}

async function readAsA(
	path: string,
): Promise<{ status: number; text: string }> {
	readsTried++;
	const response = await fetch(`${gateway.baseUrl}${path}`, {
		headers: { authorization: `Bearer ${keyOfA.key}` },
	});
	return { status: response.status, text: await response.text() };
}

describe("key of another workspace", () => {
	it("reads none of its receipts or requests", async () => {
		const records = await readWorkspace(
			gateway.store,
			keyOfB.workspace.workspaceId,
		);
		const receiptIds = records.receipts.map((receipt) => receipt.receiptId);
		const workspaceB = keyOfB.workspace.workspaceId;
		const paths = [
			...receiptIds.flatMap((id) => [
				`/receipts/${id}`,
				`/receipts/${encodeURIComponent(id)}`,
			]),
			...requestIdsOfB.flatMap((id) => [
				`/requests/${id}`,
				`/requests/${id}?workspace_id=${workspaceB}`,
			]),
			`/receipts/${encodeURIComponent(`../WS#${workspaceB}/RECEIPT#${requestIdsOfB[0]}`)}`,
			`/receipts/${encodeURIComponent(`${requestIdsOfB[0]}#`)}`,
		];

		const ownReads = await Promise.all(
			[`/receipts/${requestIdsOfB[0]}`, `/requests/${requestIdsOfB[0]}`].map(
				(path) =>
					fetch(`${gateway.baseUrl}${path}`, {
						headers: { authorization: `Bearer ${keyOfB.key}` },
					}),
			),
		);

		expect(
			ownReads.map((response) => response.status),
			"B reading its own records",
		).toEqual([200, 200]);
		expect(receiptIds.length, "receipts of B").toBeGreaterThanOrEqual(3);
		for (const path of paths) {
			const response = await readAsA(path);

			expect(response.status, path).toBeOneOf([403, 404]);
			expect(Object.keys(JSON.parse(response.text)), path).toEqual(["error"]);
		}
	});

	it("sees none of its usage", async () => {
		const filtered = await readAsA(`/usage?key_id=${keyOfB.item.keyId}`);
		const unfiltered = await readAsA("/usage");
		const credits = await readAsA("/credits");
		const key = await readAsA("/key");

		expect(filtered.status).toBe(200);
		expect(JSON.parse(filtered.text).data).toEqual([]);
		expect(unfiltered.status).toBe(200);
		expect(JSON.parse(unfiltered.text).data).toEqual([]);
		expect(JSON.parse(credits.text).workspace_id).toBe(
			keyOfA.workspace.workspaceId,
		);
		expect(JSON.parse(key.text).workspace_id).toBe(
			keyOfA.workspace.workspaceId,
		);
	});

	it("cannot spend its credit", async () => {
		const workspaceB = keyOfB.workspace.workspaceId;
		const before = await getBalance(gateway.store, workspaceB);
		const attempts = [
			chat(keyOfA.key, {
				model: "gpt-4o-mini",
				messages: [{ role: "user", content: "bill B" }],
				workspace_id: workspaceB,
				user: keyOfB.item.keyId,
			}),
			chat(
				keyOfA.key,
				{ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] },
				{
					"x-workspace-id": workspaceB,
					"openai-organization": workspaceB,
					"openai-project": keyOfB.item.keyId,
				},
			),
			chat(keyOfA.key, {
				model: "gpt-4o-mini",
				stream: true,
				messages: [{ role: "user", content: "stream on B" }],
				metadata: { workspace_id: workspaceB, key_id: keyOfB.item.keyId },
			}),
		];
		const responses = await Promise.all(attempts);
		const statuses = responses.map((response) => response.status);
		await Promise.all(responses.map((response) => response.text()));
		const after = await getBalance(gateway.store, workspaceB);
		const recordsOfB = await readWorkspace(gateway.store, workspaceB);
		const recordsOfA = await readWorkspace(
			gateway.store,
			keyOfA.workspace.workspaceId,
		);

		expect(statuses).toEqual([402, 402, 402]);
		expect(after).toEqual(before);
		expect(recordsOfB.usage).toHaveLength(requestIdsOfB.length);
		expect(recordsOfA.usage).toEqual([]);
		expect(recordsOfA.balance?.availableMicroUsd).toBe(1);
		console.log(
			`isolation: ${readsTried} reads of workspace B's receipts, requests, usage, credits and key with A's key returned nothing of B; ${attempts.length} attempts to spend B's credit got 402 and left B's balance unchanged`,
		);
	});
});
