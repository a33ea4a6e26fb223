/**
 * HTTP plumbing shared by the simulator's wire formats: reading bodies,
 * pacing stream frames, and applying stream faults.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Http2Stream, constants as http2Constants } from "node:http2";
import type { Behaviour } from "./completion.ts";
import type { Fault } from "./control.ts";

/** Largest request body the simulator reads, in bytes. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** One unit written to a stream; token frames are paced by tokens per second. */
export interface Frame {
	data: string | Uint8Array;
	token: boolean;
}

/** Reads the whole body as JSON. @throws Error on invalid JSON or an oversized body. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) {
			throw new Error(
				`Request body exceeds ${MAX_BODY_BYTES} bytes; send a smaller request.`,
			);
		}
		chunks.push(chunk as Buffer);
	}
	const text = Buffer.concat(chunks).toString("utf8");
	if (text.length === 0) {
		throw new Error("Request body is empty; send a JSON object.");
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new Error("Request body is not valid JSON; send a JSON object.");
	}
}

export function sendJson(
	response: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const text = JSON.stringify(body);
	response.writeHead(status, {
		"content-type": "application/json",
		"content-length": String(Buffer.byteLength(text)),
		...headers,
	});
	response.end(text);
}

/**
 * Drops the connection without finishing the answer, as a crashed upstream
 * would. HTTP/1.1 ends the socket once written bytes are flushed, so the
 * client reads every byte sent before the break; HTTP/2 resets the stream.
 */
export function breakConnection(response: ServerResponse): void {
	const stream = (response as unknown as { stream?: Http2Stream }).stream;
	if (stream) {
		stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
		return;
	}
	response.socket?.destroySoon();
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (ms <= 0 || signal?.aborted) return Promise.resolve();
	return new Promise((resolve) => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener("abort", done);
			resolve();
		}
		signal?.addEventListener("abort", done, { once: true });
	});
}

/** Milliseconds between two emitted tokens; 0 when the pace is unlimited. */
export function tokenIntervalMs(behaviour: Behaviour): number {
	const perSecond = behaviour.tokensPerSecond ?? 0;
	return perSecond > 0 ? 1000 / perSecond : 0;
}

/** Total time a buffered answer takes to produce `tokens` tokens, in ms. */
export function bufferedLatencyMs(
	behaviour: Behaviour,
	tokens: number,
): number {
	return (
		(behaviour.firstTokenLatencyMs ?? 0) +
		Math.max(0, tokens - 1) * tokenIntervalMs(behaviour)
	);
}

/** An AbortSignal that fires when the client goes away before the answer ends. */
export function clientGone(response: ServerResponse): AbortSignal {
	const controller = new AbortController();
	response.on("close", () => {
		if (!response.writableEnded) controller.abort();
	});
	return controller.signal;
}

export interface StreamOptions {
	status?: number;
	headers: Record<string, string>;
	behaviour: Behaviour;
	fault: Fault | null;
	/** The format's in-stream error frame for `streamErrorAfterChunks`. */
	errorFrame: (message: string) => string | Uint8Array;
}

/**
 * Writes frames with the behaviour's pacing: the first frame after
 * `firstTokenLatencyMs`, each later token frame `1000 / tokensPerSecond` ms
 * after the previous one. Applies `resetAfterChunks` (destroys the socket)
 * and `streamErrorAfterChunks` (writes the error frame and ends). Stops when
 * the client disconnects.
 */
export async function writeFrames(
	response: ServerResponse,
	frames: Frame[],
	options: StreamOptions,
): Promise<void> {
	const signal = clientGone(response);
	response.writeHead(options.status ?? 200, options.headers);
	response.flushHeaders();

	const interval = tokenIntervalMs(options.behaviour);
	let tokensWritten = 0;
	await sleep(options.behaviour.firstTokenLatencyMs ?? 0, signal);

	for (let index = 0; index < frames.length; index++) {
		if (signal.aborted) return;
		if (options.fault?.resetAfterChunks === index) {
			breakConnection(response);
			return;
		}
		if (options.fault?.streamErrorAfterChunks === index) {
			response.end(
				options.errorFrame(
					options.fault.message ?? "The simulated provider failed mid-stream.",
				),
			);
			return;
		}

		const frame = frames[index] as Frame;
		if (frame.token) {
			if (tokensWritten > 0) await sleep(interval, signal);
			tokensWritten++;
		}
		if (signal.aborted) return;
		if (!response.write(frame.data)) {
			await new Promise<void>((resolve) => {
				response.once("drain", resolve);
				response.once("close", resolve);
			});
		}
	}
	response.end();
}
