/**
 * Writing responses into the Lambda response stream: a buffered JSON
 * response, or an SSE stream that notices when the client goes away.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { GatewayError } from "../../shared/errors.ts";

/** Writes a complete JSON response with its status and headers. */
export function writeJson(
	responseStream: Writable,
	statusCode: number,
	body: unknown,
	headers: Record<string, string>,
): void {
	const stream = awslambda.HttpResponseStream.from(responseStream, {
		statusCode,
		headers: { "content-type": "application/json", ...headers },
	});
	stream.end(JSON.stringify(body));
}

/** Writes a GatewayError as OpenAI-shaped JSON. */
export function writeError(
	responseStream: Writable,
	error: GatewayError,
	headers: Record<string, string>,
): void {
	writeJson(responseStream, error.status, error.toJSON(), {
		...headers,
		...error.headers,
	});
}

/**
 * A server-sent events response. `closed` turns true, and `signal` aborts,
 * when the client disconnects before the stream ends.
 */
export class EventStream {
	private readonly stream: Writable;
	private readonly controller = new AbortController();
	private ended = false;

	constructor(responseStream: Writable, headers: Record<string, string>) {
		this.stream = awslambda.HttpResponseStream.from(responseStream, {
			statusCode: 200,
			headers: {
				"content-type": "text/event-stream; charset=utf-8",
				"cache-control": "no-cache",
				connection: "keep-alive",
				...headers,
			},
		});
		const onGone = () => {
			if (!this.ended) this.controller.abort();
		};
		this.stream.on("close", onGone);
		this.stream.on("error", onGone);
	}

	/** Aborts when the client disconnects. */
	get signal(): AbortSignal {
		return this.controller.signal;
	}

	get closed(): boolean {
		return this.controller.signal.aborted || this.stream.destroyed;
	}

	/** Sends one `data:` event, waiting if the client reads slowly. */
	async send(data: string): Promise<void> {
		if (this.closed) return;
		if (!this.stream.write(`data: ${data}\n\n`)) {
			await Promise.race([
				once(this.stream, "drain"),
				once(this.controller.signal, "abort"),
			]).catch(() => undefined);
		}
	}

	/** Ends the stream; later writes are ignored. */
	async end(): Promise<void> {
		if (this.ended) return;
		this.ended = true;
		if (this.stream.destroyed) return;
		await new Promise<void>((resolve) => {
			this.stream.end(() => resolve());
			this.stream.once("error", () => resolve());
		});
	}
}
