import { request as httpRequest } from "node:http";
import { PassThrough, Readable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	createLambdaContext,
	invokeStreaming,
	isStreamingHandler,
} from "../../infra/local/lambda-runtime.ts";
import { type LocalServer, startServer } from "../../infra/local/server.ts";
import { observed, stream } from "../fixtures/runtime/handlers.ts";
import { FIXTURE_ROUTES } from "../fixtures/runtime/routes.ts";

let server: LocalServer;

beforeAll(async () => {
	server = await startServer({
		port: 0,
		routes: FIXTURE_ROUTES,
		logger: new Logger({
			serviceName: "gag-local-test",
			logLevel: (process.env.TEST_LOG_LEVEL ?? "SILENT") as "SILENT",
		}),
	});
});

afterAll(async () => {
	await server.stop();
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000) {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

function context() {
	return createLambdaContext({ functionName: "test", timeoutMs: 5_000 });
}

describe("awslambda global", () => {
	it("marks streaming handlers", () => {
		const buffered = async () => ({ statusCode: 200 });

		expect(isStreamingHandler(stream)).toBe(true);
		expect(isStreamingHandler(buffered)).toBe(false);
	});

	it("writes the prelude bytes", async () => {
		const underlying = new PassThrough();
		const chunks: Buffer[] = [];
		underlying.on("data", (chunk) => chunks.push(chunk));

		const body = awslambda.HttpResponseStream.from(underlying, {
			statusCode: 418,
			headers: { "x-a": "b" },
		});
		body.end("tea");
		await new Promise((resolve) => underlying.once("end", resolve));

		const bytes = Buffer.concat(chunks);
		const prelude = JSON.stringify({
			statusCode: 418,
			headers: { "x-a": "b" },
		});
		expect(bytes.subarray(0, prelude.length).toString()).toBe(prelude);
		expect(bytes.subarray(prelude.length, prelude.length + 8)).toEqual(
			Buffer.alloc(8),
		);
		expect(bytes.subarray(prelude.length + 8).toString()).toBe("tea");
	});
});

describe("invokeStreaming", () => {
	it("parses a prelude split across writes", async () => {
		const handler = awslambda.streamifyResponse(
			async (_event, responseStream) => {
				const stream = responseStream as PassThrough & {
					setContentType(type: string): void;
				};
				stream.setContentType(
					"application/vnd.awslambda.http-integration-response",
				);
				const prelude = Buffer.from(
					JSON.stringify({ statusCode: 202, headers: { "x-split": "1" } }),
				);
				const bytes = Buffer.concat([
					prelude,
					Buffer.alloc(8),
					Buffer.from("body"),
				]);
				for (const byte of bytes) stream.write(Buffer.from([byte]));
				stream.end();
			},
		);

		const result = await invokeStreaming(handler, {}, context());
		const body = await Readable.from(result.body).toArray();

		expect(result.statusCode).toBe(202);
		expect(result.headers).toEqual({ "x-split": "1" });
		expect(Buffer.concat(body).toString()).toBe("body");
	});

	it("rejects a handler failing early", async () => {
		const handler = awslambda.streamifyResponse(async () => {
			throw new Error("early");
		});

		await expect(invokeStreaming(handler, {}, context())).rejects.toThrow(
			"early",
		);
	});
});

describe("local server streaming", () => {
	it("streams prelude and chunks", async () => {
		const response = await fetch(`${server.url}/stream?chunks=3`, {
			method: "POST",
		});
		const text = await response.text();

		expect(response.status).toBe(201);
		expect(response.headers.get("content-type")).toBe("text/event-stream");
		expect(response.headers.get("x-fixture")).toBe("stream");
		expect(response.headers.get("set-cookie")).toBe("session=abc; Path=/");
		expect(text).toBe("data: chunk 0\n\ndata: chunk 1\n\ndata: chunk 2\n\n");
	});

	it("delivers chunks as written", async () => {
		const response = await fetch(`${server.url}/stream?chunks=3&delayMs=150`, {
			method: "POST",
		});
		const reader = response.body?.getReader();
		const started = Date.now();

		const first = await reader?.read();
		const firstAt = Date.now() - started;
		while (!(await reader?.read())?.done) {
			// drain
		}
		const totalMs = Date.now() - started;

		expect(new TextDecoder().decode(first?.value)).toContain("chunk 0");
		expect(firstAt).toBeLessThan(totalMs - 200);
	});

	it("closes the handler stream on disconnect", async () => {
		const controller = new AbortController();
		const response = await fetch(`${server.url}/stream?forever=1&delayMs=20`, {
			method: "POST",
			signal: controller.signal,
		});
		const reader = response.body?.getReader();
		await reader?.read();
		await reader?.read();

		controller.abort();
		await waitFor(() => observed.streamEvents.includes("close"));
		const written = observed.chunksWritten;
		await new Promise((resolve) => setTimeout(resolve, 100));

		expect(observed.streamEvents).toContain("error:ECONNRESET");
		expect(observed.streamEvents).toContain("close");
		expect(observed.chunksWritten).toBeLessThanOrEqual(written + 1);
	});

	it("truncates on a mid-stream failure", async () => {
		const received = await new Promise<{ text: string; error: boolean }>(
			(resolve) => {
				const request = httpRequest(`${server.url}/stream-failure`, {
					method: "POST",
				});
				request.on("response", (response) => {
					let text = "";
					response.on("data", (chunk) => {
						text += chunk;
					});
					response.on("end", () => resolve({ text, error: false }));
					response.on("error", () => resolve({ text, error: true }));
					response.on("aborted", () => resolve({ text, error: true }));
				});
				request.on("error", () => resolve({ text: "", error: true }));
				request.end();
			},
		);

		expect(received.text).toBe("partial");
		expect(received.error).toBe(true);
	});

	it("answers 502 on an early failure", async () => {
		const response = await fetch(`${server.url}/stream-early-failure`, {
			method: "POST",
		});
		const text = await response.text();

		expect(response.status).toBe(502);
		expect(JSON.parse(text).error.type).toBe("api_error");
		expect(text).not.toContain("failed before the prelude");
	});

	it("streams without a prelude", async () => {
		const response = await fetch(`${server.url}/stream-no-prelude`, {
			method: "POST",
		});

		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe(
			"application/octet-stream",
		);
		expect(await response.text()).toBe("raw bytes");
	});
});

describe("local server shutdown", () => {
	it("finishes in-flight requests", async () => {
		const local = await startServer({
			port: 0,
			routes: FIXTURE_ROUTES,
			logger: new Logger({ serviceName: "t", logLevel: "SILENT" }),
		});
		const inFlight = fetch(`${local.url}/stream?chunks=4&delayMs=100`, {
			method: "POST",
		}).then((response) => response.text());
		await new Promise((resolve) => setTimeout(resolve, 50));

		await local.stop(5_000);
		const text = await inFlight;
		const refused = fetch(`${local.url}/echo/1`);

		expect(text).toContain("chunk 3");
		await expect(refused).rejects.toThrow();
	});

	it("cuts requests at the deadline", async () => {
		const local = await startServer({
			port: 0,
			routes: FIXTURE_ROUTES,
			logger: new Logger({ serviceName: "t", logLevel: "SILENT" }),
		});
		// The outcome is captured at once, so the rejection that stop() causes
		// is handled while stop() is still waiting for handlers to settle.
		const outcome = fetch(`${local.url}/stream?forever=1&delayMs=20`, {
			method: "POST",
		})
			.then((response) => response.text())
			.then(
				() => undefined,
				(error: unknown) => error,
			);
		await new Promise((resolve) => setTimeout(resolve, 50));
		const started = Date.now();

		await local.stop(200);

		expect(Date.now() - started).toBeLessThan(2_000);
		expect(await outcome).toBeInstanceOf(Error);
	});
});
