/**
 * Lambda emulation for the local runtime: the `awslambda` streaming global,
 * a realistic `Context`, and invokers for buffered and streaming handlers.
 *
 * Importing this module installs the global, so import it before any handler
 * module (handlers call `awslambda.streamifyResponse` at load time).
 *
 * Streaming byte protocol, as in the Node.js Lambda runtime:
 * `HttpResponseStream.from(stream, metadata)` writes
 * `JSON.stringify({ statusCode, headers, cookies })`, then eight NUL bytes,
 * then the handler writes the body. {@link invokeStreaming} parses the prelude
 * back out of those bytes, as API Gateway does.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { PassThrough, type Readable, type Writable } from "node:stream";
import type { Context } from "aws-lambda";

/** The runtime's marker for streaming handlers (same symbol as Lambda's). */
const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const STREAM_RESPONSE = "response";
const PRELUDE_CONTENT_TYPE =
	"application/vnd.awslambda.http-integration-response";
const PRELUDE_DELIMITER = Buffer.alloc(8);

/** Upper bound on the JSON prelude, in bytes, before it counts as malformed. */
const MAX_PRELUDE_BYTES = 64 * 1024;

type StreamingHandler = awslambda.StreamingHandler<unknown>;
type BufferedHandler = (
	event: unknown,
	context: Context,
	callback: (error?: unknown, result?: unknown) => void,
) => unknown;

/** Response stream given to a streaming handler. */
interface LambdaResponseStream extends PassThrough {
	setContentType(contentType: string): void;
	contentType?: string;
}

function streamifyResponse<TEvent>(
	handler: awslambda.StreamingHandler<TEvent>,
): awslambda.StreamingHandler<TEvent> {
	Object.defineProperty(handler, HANDLER_STREAMING, {
		value: STREAM_RESPONSE,
		enumerable: false,
	});
	return handler;
}

function httpResponseStreamFrom(
	stream: Writable,
	metadata: awslambda.HttpResponseMetadata,
): Writable {
	const responseStream = stream as Partial<LambdaResponseStream> & Writable;
	responseStream.setContentType?.(PRELUDE_CONTENT_TYPE);
	stream.write(JSON.stringify(metadata));
	stream.write(PRELUDE_DELIMITER);
	return stream;
}

/**
 * Installs `awslambda.streamifyResponse` and `awslambda.HttpResponseStream`
 * unless they exist. Other members are kept: `@aws/lambda-invoke-store`
 * (used by Powertools) creates the global to hold its `InvokeStore`.
 */
export function installAwsLambdaGlobal(): void {
	const scope = globalThis as unknown as {
		awslambda?: Record<string, unknown>;
	};
	scope.awslambda ??= {};
	scope.awslambda.streamifyResponse ??= streamifyResponse;
	scope.awslambda.HttpResponseStream ??= { from: httpResponseStreamFrom };
}

installAwsLambdaGlobal();

/** Whether `awslambda.streamifyResponse` marked the handler as streaming. */
export function isStreamingHandler(handler: unknown): boolean {
	return (
		typeof handler === "function" &&
		(handler as unknown as Record<symbol, unknown>)[HANDLER_STREAMING] ===
			STREAM_RESPONSE
	);
}

export interface LambdaContextOptions {
	functionName: string;
	/** Function timeout; `getRemainingTimeInMillis` counts down from it. */
	timeoutMs: number;
	memoryLimitInMB?: number;
	region?: string;
	awsRequestId?: string;
}

/** Account id used in local ARNs; no real account is involved. */
export const LOCAL_ACCOUNT_ID = "000000000000";

/** Builds a Lambda `Context` with a deadline `timeoutMs` from now. */
export function createLambdaContext(options: LambdaContextOptions): Context {
	const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
	const deadline = Date.now() + options.timeoutMs;
	const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
	const unsupported = () => {
		throw new Error(
			"context.done, fail and succeed are not supported; return a value or a promise from the handler.",
		);
	};
	return {
		callbackWaitsForEmptyEventLoop: true,
		functionName: options.functionName,
		functionVersion: "$LATEST",
		invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
		memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
		awsRequestId: options.awsRequestId ?? randomUUID(),
		logGroupName: `/aws/lambda/${options.functionName}`,
		logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
		getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
		done: unsupported,
		fail: unsupported,
		succeed: unsupported,
	};
}

/** Thrown when a handler runs past its context's deadline. */
export class LambdaTimeoutError extends Error {
	constructor(functionName: string, timeoutMs: number) {
		super(`Function ${functionName} timed out after ${timeoutMs} ms.`);
		this.name = "LambdaTimeoutError";
	}
}

export interface InvokeOptions {
	/** Aborts the invocation, as a client disconnect does. */
	signal?: AbortSignal;
}

/**
 * Invokes a buffered handler (promise or callback style) and returns its
 * result. A client disconnect does not stop it, as in Lambda.
 * @throws the handler's error, or LambdaTimeoutError at the deadline.
 */
export async function invokeBuffered(
	handler: unknown,
	event: unknown,
	context: Context,
): Promise<unknown> {
	const timeoutMs = context.getRemainingTimeInMillis();
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_resolve, reject) => {
		timer = setTimeout(
			() => reject(new LambdaTimeoutError(context.functionName, timeoutMs)),
			timeoutMs,
		);
	});

	const result = new Promise<unknown>((resolve, reject) => {
		const callback = (error?: unknown, value?: unknown) =>
			error ? reject(error) : resolve(value);
		try {
			const returned = (handler as BufferedHandler)(event, context, callback);
			if (isThenable(returned)) returned.then(resolve, reject);
			else if (returned !== undefined) resolve(returned);
		} catch (error) {
			reject(error);
		}
	});

	try {
		return await Promise.race([result, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
	return (
		typeof value === "object" &&
		value !== null &&
		typeof (value as { then?: unknown }).then === "function"
	);
}

/** The parsed start of a streamed response. */
export interface StreamingResult {
	statusCode: number;
	headers: Record<string, string>;
	cookies: string[];
	/** Body bytes after the prelude; errors if the handler fails mid-stream. */
	body: Readable;
	/** Settles when the handler's promise settles. */
	completion: Promise<void>;
}

/**
 * Invokes a streaming handler and resolves once the prelude is parsed (or the
 * stream ends without one: status 200). When `options.signal` aborts, the
 * handler's stream is destroyed with an error, so the handler receives `error` and
 * `close` as with a broken connection. The stream is ended if the handler
 * resolves without ending it, so a local response never hangs.
 *
 * @throws the handler's error when it fails before writing the prelude, an
 *   Error for a malformed prelude, or LambdaTimeoutError at the deadline.
 */
export function invokeStreaming(
	handler: unknown,
	event: unknown,
	context: Context,
	options: InvokeOptions = {},
): Promise<StreamingResult> {
	const responseStream = createResponseStream();
	const body = new PassThrough();
	// The caller may never read a body that fails before the prelude; its
	// readers still get the error through their own listeners.
	body.on("error", () => {});
	const timeoutMs = context.getRemainingTimeInMillis();

	return new Promise<StreamingResult>((resolve, reject) => {
		let settled = false;
		const fail = (error: unknown) => {
			if (!settled) {
				settled = true;
				reject(error);
			}
			body.destroy(error instanceof Error ? error : new Error(String(error)));
			if (!responseStream.destroyed) responseStream.destroy(error as Error);
		};

		const timer = setTimeout(
			() => fail(new LambdaTimeoutError(context.functionName, timeoutMs)),
			timeoutMs,
		);
		body.once("close", () => clearTimeout(timer));
		options.signal?.addEventListener(
			"abort",
			() => {
				clearTimeout(timer);
				fail(clientDisconnectedError());
			},
			{ once: true },
		);

		const completion = runStreamingHandler(
			handler,
			event,
			responseStream,
			context,
		);
		completion.catch(fail);

		readPrelude(responseStream, body).then((prelude) => {
			if (settled) return;
			settled = true;
			resolve({ ...prelude, body, completion: completion.catch(() => {}) });
		}, fail);
	});
}

function createResponseStream(): LambdaResponseStream {
	const stream = new PassThrough() as LambdaResponseStream;
	stream.setContentType = (contentType: string) => {
		stream.contentType = contentType;
	};
	// A handler without an 'error' listener must not crash the local server
	// when the client disconnects; handlers that listen still get the event.
	stream.on("error", () => {});
	return stream;
}

async function runStreamingHandler(
	handler: unknown,
	event: unknown,
	responseStream: LambdaResponseStream,
	context: Context,
): Promise<void> {
	await (handler as StreamingHandler)(event, responseStream, context);
	if (!responseStream.writableEnded && !responseStream.destroyed) {
		responseStream.end();
	}
}

function clientDisconnectedError(): Error {
	return Object.assign(
		new Error("The client closed the connection before the response ended."),
		{ code: "ECONNRESET" },
	);
}

interface Prelude {
	statusCode: number;
	headers: Record<string, string>;
	cookies: string[];
}

/**
 * Reads the response stream into `body`, splitting off the JSON prelude when
 * the handler used `HttpResponseStream.from`. Resolves with the prelude as
 * soon as it is complete.
 */
function readPrelude(
	responseStream: LambdaResponseStream,
	body: PassThrough,
): Promise<Prelude> {
	return new Promise((resolve, reject) => {
		let pending: Buffer | null = Buffer.alloc(0);
		let resolved = false;
		const finishPrelude = (prelude: Prelude, rest: Buffer) => {
			resolved = true;
			pending = null;
			resolve(prelude);
			if (rest.length > 0) body.write(rest);
		};

		responseStream.on("data", (chunk: Buffer) => {
			if (pending === null) {
				if (!body.write(chunk)) {
					responseStream.pause();
					body.once("drain", () => responseStream.resume());
				}
				return;
			}
			if (responseStream.contentType !== PRELUDE_CONTENT_TYPE) {
				finishPrelude(defaultPrelude(responseStream), chunk);
				return;
			}

			pending = Buffer.concat([pending, chunk]);
			const end = pending.indexOf(PRELUDE_DELIMITER);
			if (end === -1) {
				if (pending.length > MAX_PRELUDE_BYTES) {
					reject(new Error("The streaming response prelude is malformed."));
				}
				return;
			}
			try {
				const prelude = parsePrelude(pending.subarray(0, end).toString("utf8"));
				finishPrelude(
					prelude,
					pending.subarray(end + PRELUDE_DELIMITER.length),
				);
			} catch (error) {
				reject(error);
			}
		});

		responseStream.once("end", () => {
			if (!resolved)
				finishPrelude(defaultPrelude(responseStream), Buffer.alloc(0));
			body.end();
		});
	});
}

function defaultPrelude(responseStream: LambdaResponseStream): Prelude {
	return {
		statusCode: 200,
		headers: {
			"content-type": responseStream.contentType ?? "application/octet-stream",
		},
		cookies: [],
	};
}

function parsePrelude(json: string): Prelude {
	const raw = JSON.parse(json) as Partial<Prelude>;
	if (!Number.isInteger(raw.statusCode)) {
		throw new Error(
			"The streaming response prelude has no integer statusCode; pass { statusCode, headers } to HttpResponseStream.from.",
		);
	}
	return {
		statusCode: raw.statusCode as number,
		headers: { ...(raw.headers ?? {}) },
		cookies: [...(raw.cookies ?? [])],
	};
}
