import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startServer } from "../../infra/local/server.ts";
import { FIXTURE_ROUTES } from "../fixtures/runtime/routes.ts";

let server: LocalServer;
let siteDir: string;

beforeAll(async () => {
	siteDir = mkdtempSync(join(tmpdir(), "gag-site-"));
	writeFileSync(join(siteDir, "index.html"), "<h1>portal</h1>");
	mkdirSync(join(siteDir, "keys"));
	writeFileSync(join(siteDir, "keys/index.html"), "<h1>keys</h1>");
	mkdirSync(join(siteDir, "_astro"));
	writeFileSync(join(siteDir, "_astro/app.abc123.js"), "console.log(1)");
	server = await startServer({
		port: 0,
		routes: FIXTURE_ROUTES,
		siteDir,
		cell: "sg",
		logger: new Logger({
			serviceName: "gag-local-test",
			logLevel: (process.env.TEST_LOG_LEVEL ?? "SILENT") as "SILENT",
		}),
	});
});

afterAll(async () => {
	await server.stop();
});

interface Echo {
	event: APIGatewayProxyEvent;
	context: {
		awsRequestId: string;
		functionName: string;
		invokedFunctionArn: string;
		remainingTimeMs: number;
	};
}

async function echo(path: string, init?: RequestInit): Promise<Echo> {
	const response = await fetch(`${server.url}${path}`, init);
	expect(response.status).toBe(200);
	return (await response.json()) as Echo;
}

describe("local server events", () => {
	it("passes path parameters", async () => {
		const { event } = await echo("/echo/rcpt%2042");

		expect(event.resource).toBe("/echo/{id}");
		expect(event.path).toBe("/echo/rcpt%2042");
		expect(event.httpMethod).toBe("GET");
		expect(event.pathParameters).toEqual({ id: "rcpt 42" });
		expect(event.body).toBeNull();
		expect(event.isBase64Encoded).toBe(false);
	});

	it("passes greedy proxy parameters", async () => {
		const { event } = await echo("/files/a/b/c.txt", { method: "DELETE" });

		expect(event.resource).toBe("/files/{proxy+}");
		expect(event.pathParameters).toEqual({ proxy: "a/b/c.txt" });
		expect(event.httpMethod).toBe("DELETE");
	});

	it("passes query parameters", async () => {
		const { event } = await echo("/echo/1?limit=5&tag=a&tag=b&q=a%20b");

		expect(event.queryStringParameters).toEqual({
			limit: "5",
			tag: "b",
			q: "a b",
		});
		expect(event.multiValueQueryStringParameters).toEqual({
			limit: ["5"],
			tag: ["a", "b"],
			q: ["a b"],
		});
	});

	it("sets null for no query", async () => {
		const { event } = await echo("/echo/1");

		expect(event.queryStringParameters).toBeNull();
		expect(event.multiValueQueryStringParameters).toBeNull();
	});

	it("passes headers with their case", async () => {
		const { event } = await echo("/echo/1", {
			headers: { Authorization: "Bearer sk-test", "X-Custom": "v" },
		});

		expect(event.headers.authorization ?? event.headers.Authorization).toBe(
			"Bearer sk-test",
		);
		expect(
			event.multiValueHeaders["x-custom"] ??
				event.multiValueHeaders["X-Custom"],
		).toEqual(["v"]);
		expect(event.headers["X-Forwarded-For"]).toBe("127.0.0.1");
		expect(event.headers["X-Forwarded-Proto"]).toBe("http");
	});

	it("keeps repeated headers", async () => {
		const body = await new Promise<string>((resolve, reject) => {
			const request = httpRequest(`${server.url}/echo/1`);
			request.setHeader("X-Multi", ["one", "two"]);
			request.on("response", (response) => {
				let text = "";
				response.on("data", (chunk) => {
					text += chunk;
				});
				response.on("end", () => resolve(text));
			});
			request.on("error", reject);
			request.end();
		});
		const { event } = JSON.parse(body) as Echo;

		expect(event.multiValueHeaders["X-Multi"]).toEqual(["one", "two"]);
		expect(event.headers["X-Multi"]).toBe("two");
	});

	it("fills the request context", async () => {
		const before = Date.now();

		const { event, context } = await echo("/echo/1");

		const requestContext = event.requestContext;
		expect(requestContext.stage).toBe("local");
		expect(requestContext.resourcePath).toBe("/echo/{id}");
		expect(requestContext.path).toBe("/local/echo/1");
		expect(requestContext.identity.sourceIp).toBe("127.0.0.1");
		expect(requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(requestContext.requestTimeEpoch).toBeGreaterThanOrEqual(before);
		expect(requestContext.requestTime).toMatch(
			/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/,
		);
		expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(context.functionName).toBe("gag-local-runtime-echo");
		expect(context.invokedFunctionArn).toMatch(
			/^arn:aws:lambda:[a-z0-9-]+:000000000000:function:gag-local-runtime-echo$/,
		);
		expect(context.remainingTimeMs).toBeGreaterThan(4_000);
		expect(context.remainingTimeMs).toBeLessThanOrEqual(5_000);
	});

	it("passes a UTF-8 body as text", async () => {
		const { event } = await echo("/echo/1", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ text: "héllo 你好" }),
		});

		expect(event.isBase64Encoded).toBe(false);
		expect(JSON.parse(event.body ?? "")).toEqual({ text: "héllo 你好" });
	});

	it("passes a binary body as base64", async () => {
		const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);

		const { event } = await echo("/echo/1", { method: "POST", body: bytes });

		expect(event.isBase64Encoded).toBe(true);
		expect(Buffer.from(event.body ?? "", "base64")).toEqual(bytes);
	});
});

describe("local server responses", () => {
	it("merges multi-value headers", async () => {
		const response = await fetch(`${server.url}/echo/1`);

		expect(response.headers.get("x-echo")).toBe("one, two");
		expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("decodes a base64 result", async () => {
		const response = await fetch(`${server.url}/binary`);

		expect(Buffer.from(await response.arrayBuffer())).toEqual(
			Buffer.from([0, 255, 1, 254]),
		);
	});

	it("supports callback handlers", async () => {
		const response = await fetch(`${server.url}/callback`);

		expect(response.status).toBe(201);
		expect(await response.text()).toBe("made");
	});

	it("hides a handler error", async () => {
		const response = await fetch(`${server.url}/boom`);
		const text = await response.text();

		expect(response.status).toBe(502);
		expect(JSON.parse(text).error.type).toBe("api_error");
		expect(text).not.toContain("secret internal detail");
		expect(text).not.toMatch(/at .*\.ts/);
	});

	it("rejects a malformed result", async () => {
		const response = await fetch(`${server.url}/malformed`);
		const body = await response.json();

		expect(response.status).toBe(502);
		expect(body.error.code).toBe("internal_error");
	});

	it("times out a slow handler", async () => {
		const response = await fetch(`${server.url}/slow`);
		const body = await response.json();

		expect(response.status).toBe(504);
		expect(body.error.message).toContain("timed out");
	});

	it("answers 404 for unknown routes", async () => {
		const response = await fetch(`${server.url}/v1/nothing`, {
			method: "POST",
		});
		const body = await response.json();

		expect(response.status).toBe(404);
		expect(body).toEqual({
			error: {
				message: expect.stringContaining("POST /v1/nothing"),
				type: "not_found_error",
				param: null,
				code: "unknown_route",
			},
		});
	});

	it("answers 405 for other methods", async () => {
		const response = await fetch(`${server.url}/binary`, { method: "POST" });
		const body = await response.json();

		expect(response.status).toBe(405);
		expect(response.headers.get("allow")).toBe("GET");
		expect(body.error.type).toBe("invalid_request_error");
	});

	it("answers 413 above 10 MB", async () => {
		const body = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);

		const response = await fetch(`${server.url}/echo/1`, {
			method: "POST",
			body,
		});
		const json = await response.json();

		expect(response.status).toBe(413);
		expect(json.error.code).toBe("request_too_large");
	});

	it("accepts exactly 10 MB", async () => {
		const body = Buffer.alloc(10 * 1024 * 1024, 0x61);

		const response = await fetch(`${server.url}/echo/1`, {
			method: "POST",
			body,
		});
		await response.arrayBuffer();

		expect(response.status).toBe(200);
	});
});

describe("local server portal", () => {
	it("serves index.html at the root", async () => {
		const response = await fetch(`${server.url}/`);

		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe(
			"text/html; charset=utf-8",
		);
		expect(await response.text()).toBe("<h1>portal</h1>");
	});

	it("serves directory index pages", async () => {
		const response = await fetch(`${server.url}/keys`);

		expect(await response.text()).toBe("<h1>keys</h1>");
	});

	it("falls back to index.html", async () => {
		const response = await fetch(`${server.url}/workspaces/abc`);

		expect(response.status).toBe(200);
		expect(await response.text()).toBe("<h1>portal</h1>");
	});

	it("serves assets with their type", async () => {
		const response = await fetch(`${server.url}/_astro/app.abc123.js`);

		expect(response.headers.get("content-type")).toBe(
			"text/javascript; charset=utf-8",
		);
		expect(response.headers.get("cache-control")).toContain("immutable");
	});

	it("answers 404 for a missing asset", async () => {
		const response = await fetch(`${server.url}/_astro/missing.js`);

		expect(response.status).toBe(404);
	});

	it("blocks path traversal", async () => {
		const response = await fetch(`${server.url}/..%2f..%2fetc%2fpasswd`);
		const text = await response.text();

		expect(text).not.toContain("root:");
	});

	it("serves the cell config", async () => {
		const response = await fetch(`${server.url}/config.json`);
		const config = await response.json();

		expect(config.defaultCell).toBe("sg");
		expect(config.cells).toEqual([
			{
				id: "sg",
				name: "Singapore",
				region: "ap-southeast-1",
				apiUrl: server.url,
			},
		]);
	});
});
