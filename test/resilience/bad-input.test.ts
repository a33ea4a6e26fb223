/**
 * Bad input against the HTTP API: property-based bodies and keys from
 * fast-check plus hand-picked malformed requests. Each must get a 4xx with an
 * OpenAI-shaped error body, never a 5xx or a crash, and must cost nothing:
 * no provider call, no usage event, no change to the balance.
 *
 * Unknown fields alone are not bad input: the schema lets them pass, as
 * OpenAI clients add fields faster than any gateway. They appear here only
 * beside a defect that must still be caught, and as prototype-pollution keys.
 */
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../shared/api-key.ts";
import { chatCompletionRequestSchema } from "../../shared/schemas/chat.ts";
import {
	createTestKey,
	startGateway,
	type TestGateway,
	type TestKey,
} from "../setup/gateway.ts";
import { readWorkspace } from "./accounting.ts";

const SEED = Number(process.env.RESILIENCE_SEED ?? 424_242);
const RUNS = 200;
const OPENING_CREDIT_MICRO_USD = 1_000_000;
const VALID_BODY = {
	model: "gpt-4o-mini",
	messages: [{ role: "user", content: "hello" }],
};
const KNOWN_FIELDS = [
	"model",
	"messages",
	"stream",
	"stream_options",
	"max_tokens",
	"max_completion_tokens",
	"temperature",
	"top_p",
	"n",
	"stop",
	"seed",
	"user",
	"tools",
	"tool_choice",
	"parallel_tool_calls",
	"response_format",
	"presence_penalty",
	"frequency_penalty",
	"logit_bias",
] as const;

/** Authorization headers that Node's HTTP parser rejects. */
const controlBytes: [string, string][] = [
	["control characters", "authorization: Bearer sk-gag-\u0001\u0002"],
	["NUL byte", "authorization: Bearer sk-gag-global-\u0000"],
];

let gateway: TestGateway;
let owner: TestKey;
let otherCell: TestKey;
let inputsTried = 0;
const failures: string[] = [];

beforeAll(async () => {
	gateway = await startGateway();
	owner = await createTestKey(gateway.store, { creditUsd: "1" });
	otherCell = await createTestKey(gateway.store, { cell: "sg" });
	gateway.simulator.clearRequests();
});

afterAll(async () => {
	await gateway?.stop();
});

interface RawResponse {
	status: number;
	contentType: string;
	text: string;
}

async function post(
	body: string | Uint8Array,
	authorization: string | null = `Bearer ${owner.key}`,
): Promise<RawResponse> {
	const response = await fetch(`${gateway.baseUrl}/chat/completions`, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			...(authorization === null ? {} : { authorization }),
		},
		body: typeof body === "string" ? body : new Uint8Array(body),
	});
	return {
		status: response.status,
		contentType: response.headers.get("content-type") ?? "",
		text: await response.text(),
	};
}

/**
 * Sends a request byte for byte over a socket, for header bytes that fetch
 * refuses to send. The response is read until the server closes.
 */
function postRaw(headerLines: string[], body: Buffer): Promise<RawResponse> {
	const url = new URL(gateway.baseUrl);
	return new Promise((resolve, reject) => {
		const socket = connect(Number(url.port), "127.0.0.1");
		const chunks: Buffer[] = [];
		socket.on("data", (chunk) => chunks.push(chunk));
		socket.on("error", reject);
		socket.on("end", () => {
			const raw = Buffer.concat(chunks).toString("utf8");
			const [head = "", ...rest] = raw.split("\r\n\r\n");
			const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
			const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? "";
			let text = rest.join("\r\n\r\n");
			if (/\r\ntransfer-encoding: chunked/i.test(head)) {
				text = text.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n/gi, "");
			}
			resolve({ status, contentType, text });
		});
		socket.write(
			Buffer.concat([
				Buffer.from(
					[
						"POST /v1/chat/completions HTTP/1.1",
						`host: ${url.host}`,
						"content-type: application/json",
						`content-length: ${body.length}`,
						"connection: close",
						...headerLines,
						"",
						"",
					].join("\r\n"),
					"latin1",
				),
				body,
			]),
		);
	});
}

/**
 * Checks one response to bad input and returns the problems found: a
 * status outside 400 to 499, a body that is not an OpenAI error, internals
 * in the message, or a provider call.
 */
function problemsOf(label: string, response: RawResponse): string[] {
	inputsTried++;
	const problems: string[] = [];
	if (response.status < 400 || response.status > 499) {
		problems.push(`${label}: status ${response.status}`);
	}
	let error: Record<string, unknown> | undefined;
	try {
		error = (JSON.parse(response.text) as { error?: Record<string, unknown> })
			.error;
	} catch {
		problems.push(`${label}: body is not JSON: ${response.text.slice(0, 200)}`);
	}
	if (error) {
		if (typeof error.message !== "string" || error.message.length === 0) {
			problems.push(`${label}: error.message is not a string`);
		}
		if (typeof error.type !== "string") {
			problems.push(`${label}: error.type is not a string`);
		}
		for (const field of ["code", "param"]) {
			if (!(field in error)) problems.push(`${label}: error.${field} missing`);
		}
		if (/\n\s+at |node_modules|\.ts:\d+/.test(String(error.message))) {
			problems.push(`${label}: message shows internals: ${error.message}`);
		}
	} else if (problems.length === 0) {
		problems.push(
			`${label}: no error object in ${response.text.slice(0, 200)}`,
		);
	}
	if (!response.contentType.includes("application/json")) {
		problems.push(`${label}: content-type ${response.contentType}`);
	}
	const providerCalls = gateway.simulator.requests().length;
	if (providerCalls > 0) {
		problems.push(`${label}: ${providerCalls} provider calls`);
		gateway.simulator.clearRequests();
	}
	failures.push(...problems);
	return problems;
}

function schemaAccepts(body: unknown): boolean {
	return chatCompletionRequestSchema.safeParse(body).success;
}

function nested(depth: number, open: string, close: string, core = "1") {
	return open.repeat(depth) + core + close.repeat(depth);
}

describe("hand-picked malformed requests", () => {
	it("get 4xx and cost nothing", { timeout: 120_000 }, async () => {
		const before = failures.length;
		const withBody = (fields: Record<string, unknown>) =>
			JSON.stringify({ ...VALID_BODY, ...fields });
		const bodies: [string, string | Uint8Array][] = [
			["empty body", ""],
			["invalid JSON", '{"model": "gpt-4o-mini", "messages": ['],
			["trailing garbage", `${JSON.stringify(VALID_BODY)} x`],
			["JSON array", JSON.stringify([VALID_BODY])],
			["JSON string", '"hello"'],
			["JSON null", "null"],
			["NaN literal", '{"model":"gpt-4o-mini","max_tokens":NaN}'],
			["single quotes", "{'model':'gpt-4o-mini'}"],
			["missing messages", JSON.stringify({ model: "gpt-4o-mini" })],
			["missing model", JSON.stringify({ messages: VALID_BODY.messages })],
			["empty messages", withBody({ messages: [] })],
			["messages as string", withBody({ messages: "hello" })],
			["message without role", withBody({ messages: [{ content: "hi" }] })],
			[
				"unknown role",
				withBody({ messages: [{ role: "root", content: "x" }] }),
			],
			[
				"content as number",
				withBody({ messages: [{ role: "user", content: 7 }] }),
			],
			["model as number", withBody({ model: 4 })],
			["model too long", withBody({ model: "m".repeat(201) })],
			["unknown model", withBody({ model: "gpt-\u0000-nope" })],
			["stream as string", withBody({ stream: "yes" })],
			["max_tokens negative", withBody({ max_tokens: -1 })],
			["max_tokens zero", withBody({ max_tokens: 0 })],
			["max_tokens 1e12", withBody({ max_tokens: 1e12 })],
			["max_tokens fraction", withBody({ max_tokens: 1.5 })],
			["max_tokens string", withBody({ max_tokens: "100" })],
			["max_tokens array", withBody({ max_tokens: [100] })],
			["max_tokens boolean", withBody({ max_tokens: true })],
			[
				"max_tokens 1e400",
				`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_tokens":1e400}`,
			],
			["max_completion_tokens 1e12", withBody({ max_completion_tokens: 1e12 })],
			["n too large", withBody({ n: 1000 })],
			["temperature string", withBody({ temperature: "hot" })],
			["tools not array", withBody({ tools: { type: "function" } })],
			[
				"tool name invalid",
				withBody({
					tools: [{ type: "function", function: { name: "rm -rf /" } }],
				}),
			],
			[
				"unknown fields with bad model",
				JSON.stringify({
					model: 1,
					messages: VALID_BODY.messages,
					extra: { deep: [1, 2] },
					workspace_id: "ws_other",
				}),
			],
			[
				"prototype keys",
				'{"__proto__":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]},"constructor":{"prototype":{"admin":true}}}',
			],
			[
				"control characters raw in string",
				'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a\u0001\u0007b"}]}',
			],
			["deep arrays as body (10,000)", nested(10_000, "[", "]")],
			[
				"deep arrays as messages (10,000)",
				`{"model":"gpt-4o-mini","messages":${nested(10_000, "[", "]")}}`,
			],
			[
				"deep objects as content (10,000)",
				`{"model":"gpt-4o-mini","messages":[{"role":"user","content":${nested(10_000, '{"a":', "}")}}]}`,
			],
			[
				"deep arrays as max_tokens (100,000)",
				`{"model":"gpt-4o-mini","messages":[],"max_tokens":${nested(100_000, "[", "]")}}`,
			],
			[
				"huge invalid model (9 MB)",
				withBody({ model: "m".repeat(9 * 1024 * 1024) }),
			],
			[
				"huge body (11 MB)",
				withBody({
					messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }],
				}),
			],
			[
				"invalid UTF-8",
				Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
			],
			[
				"lone surrogate bytes",
				Buffer.concat([
					Buffer.from('{"model":"'),
					Buffer.from([0xed, 0xa0, 0x80]),
					Buffer.from('","messages":[]}'),
				]),
			],
			[
				"UTF-16 body",
				Buffer.from(
					JSON.stringify(VALID_BODY).replace('"hello"', '"x"').slice(0, 30),
					"utf16le",
				),
			],
		];

		for (const [label, body] of bodies) {
			problemsOf(label, await post(body));
		}

		expect(failures.slice(before)).toEqual([]);
	});

	it("reject forged and foreign keys", async () => {
		const before = failures.length;
		const key = owner.key;
		const lastChar = key.at(-1) === "A" ? "B" : "A";
		const keys: [string, string | null][] = [
			["missing header", null],
			["empty bearer", "Bearer "],
			[
				"basic scheme",
				`Basic ${Buffer.from(`user:${key}`).toString("base64")}`,
			],
			["key without scheme", key],
			["two tokens", `Bearer ${key} ${key}`],
			["forged key with valid checksum", `Bearer ${generateApiKey("global")}`],
			["truncated key", `Bearer ${key.slice(0, -1)}`],
			["truncated to prefix", "Bearer sk-gag-global-"],
			["bad checksum", `Bearer ${key.slice(0, -1)}${lastChar}`],
			["upper-cased key", `Bearer ${key.toUpperCase()}`],
			["key with suffix", `Bearer ${key}x`],
			["OpenAI-style key", `Bearer sk-proj-${"a".repeat(48)}`],
			["forged key of another cell", `Bearer ${generateApiKey("sg")}`],
			["real key of another cell", `Bearer ${otherCell.key}`],
			["key of an unknown cell", `Bearer ${generateApiKey("mars")}`],
			["8 KB key", `Bearer sk-gag-global-${"a".repeat(8 * 1024)}`],
		];
		for (const [label, authorization] of keys) {
			const response = await post(JSON.stringify(VALID_BODY), authorization);
			problemsOf(label, response);
			expect(response.status, label).toBeOneOf([401, 403]);
		}
		const raw: [string, string][] = [
			[
				"Latin-1 bytes in key",
				`authorization: Bearer ${key.slice(0, -1)}\u00ff`,
			],
			[
				"duplicate authorization headers",
				`authorization: Bearer ${generateApiKey("global")}\r\nauthorization: Bearer ${key.slice(0, -1)}`,
			],
		];
		for (const [label, line] of raw) {
			problemsOf(
				label,
				await postRaw([line], Buffer.from(JSON.stringify(VALID_BODY))),
			);
		}

		expect(failures.slice(before)).toEqual([]);
	});

	it("rejects control bytes in headers", async () => {
		for (const [label, line] of controlBytes) {
			inputsTried++;
			const response = await postRaw(
				[line],
				Buffer.from(JSON.stringify(VALID_BODY)),
			);

			expect(response.status, label).toBe(400);
			expect(gateway.simulator.requests(), label).toEqual([]);
		}
	});

	it("answers control bytes with JSON", async () => {
		for (const [label, line] of controlBytes) {
			const response = await postRaw(
				[line],
				Buffer.from(JSON.stringify(VALID_BODY)),
			);

			expect(response.contentType, label).toContain("application/json");
			expect(JSON.parse(response.text).error.type, label).toBeTypeOf("string");
		}
	});
});

describe("generated bad input", () => {
	it("gets 4xx and costs nothing", { timeout: 240_000 }, async () => {
		const before = failures.length;
		const invalidBody = fc.jsonValue().filter((value) => !schemaAccepts(value));
		const mutatedBody = fc
			.record({
				field: fc.constantFrom(...KNOWN_FIELDS),
				value: fc.jsonValue({ maxDepth: 4 }),
				extra: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), {
					maxKeys: 3,
				}),
			})
			.map(({ field, value, extra }) => ({
				...extra,
				...VALID_BODY,
				[field]: value,
			}))
			.filter((value) => !schemaAccepts(value));
		const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 2_048 });
		const randomAuthorization = fc.oneof(
			fc.string({ maxLength: 200 }).map((text) => `Bearer ${text.trim()}`),
			fc
				.stringMatching(/^[0-9A-Za-z]{30,40}$/)
				.map((body) => `Bearer sk-gag-global-${body}`),
			fc
				.stringMatching(/^[a-z][a-z0-9]{1,15}$/)
				.map((cell) => `Bearer ${generateApiKey(cell)}`),
		);
		const check = async (label: string, response: RawResponse) =>
			problemsOf(label, response).length === 0;

		await fc.assert(
			fc.asyncProperty(invalidBody, async (body) =>
				check(
					`JSON ${JSON.stringify(body).slice(0, 80)}`,
					await post(JSON.stringify(body)),
				),
			),
			{ seed: SEED, numRuns: RUNS },
		);
		await fc.assert(
			fc.asyncProperty(mutatedBody, async (body) =>
				check(
					`mutated ${JSON.stringify(body).slice(0, 80)}`,
					await post(JSON.stringify(body)),
				),
			),
			{ seed: SEED, numRuns: RUNS },
		);
		await fc.assert(
			fc.asyncProperty(
				randomBytes.filter((bytes) => {
					try {
						return !schemaAccepts(JSON.parse(Buffer.from(bytes).toString()));
					} catch {
						return true;
					}
				}),
				async (bytes) =>
					check(
						`bytes ${Buffer.from(bytes).toString("hex").slice(0, 40)}`,
						await post(bytes),
					),
			),
			{ seed: SEED, numRuns: RUNS },
		);
		await fc.assert(
			fc.asyncProperty(
				randomAuthorization.filter(
					(value) =>
						value !== `Bearer ${owner.key}` && !/[^\x20-\x7e]/.test(value),
				),
				async (authorization) =>
					check(
						`authorization ${authorization.slice(0, 60)}`,
						await post(JSON.stringify(VALID_BODY), authorization),
					),
			),
			{ seed: SEED, numRuns: RUNS },
		);

		expect(failures.slice(before)).toEqual([]);
	});
});

describe("after all bad input", () => {
	it("nothing was charged", async () => {
		const records = await readWorkspace(
			gateway.store,
			owner.workspace.workspaceId,
		);

		expect(records.balance?.availableMicroUsd).toBe(OPENING_CREDIT_MICRO_USD);
		expect(records.balance?.reservedMicroUsd).toBe(0);
		expect(records.usage).toEqual([]);
		expect(records.reservations).toEqual([]);
		expect(records.ledger.map((entry) => entry.kind)).toEqual(["topup"]);
		expect(gateway.simulator.requests()).toEqual([]);
		console.log(
			[
				`bad input: ${inputsTried} inputs tried (fast-check seed ${SEED}, ${RUNS} runs per property), ${failures.length} failures`,
				`  each got a 4xx OpenAI error (the ${controlBytes.length} header cases with control bytes an empty 400 from Node's parser), no provider call; balance unchanged at ${OPENING_CREDIT_MICRO_USD} micro-USD`,
			].join("\n"),
		);
	});
});
