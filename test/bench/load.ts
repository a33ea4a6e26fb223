/**
 * Closed-loop load client: `concurrency` workers, each sending one request
 * after another over keep-alive connections, for a fixed time or until a
 * minimum count. It records per request the time to the first byte of the
 * body (TTFB) and to the last byte (total), in ms from the request's start.
 *
 * Every response is checked: status 200, and `[DONE]` at the end of a
 * stream or `"choices"` in a JSON body. Failures are counted, not timed.
 */
import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";

export interface Target {
	name: string;
	/** Full URL of the chat completions endpoint. */
	url: string;
	headers: Record<string, string>;
}

export interface LoadOptions {
	target: Target;
	body: string;
	stream: boolean;
	concurrency: number;
	/** Measured time in ms, after which workers start no new request. */
	durationMs: number;
	/** Minimum number of requests to complete, even past `durationMs`. */
	minRequests: number;
	/** Called at the start and end of the measured window. */
	onWindow?: (edge: "start" | "end") => void;
}

export interface Sample {
	ttfbMs: number;
	totalMs: number;
}

export interface LoadResult {
	/** Requests started inside the window, timed to their end. */
	samples: Sample[];
	/** Requests that ended successfully inside the window, for throughput. */
	completed: number;
	errors: number;
	/** First error message, for the report. */
	firstError?: string;
	/** Wall time of the measured window in ms. */
	elapsedMs: number;
}

export interface Timing {
	startedAt: number;
	firstByteAt: number;
	endedAt: number;
}

/**
 * Sends one request and resolves with its timing (performance.now() clock),
 * or rejects with a message that names what failed.
 */
export function sendOnce(
	agent: Agent,
	target: Target,
	body: string,
	stream: boolean,
): Promise<Timing> {
	const url = new URL(target.url);
	return new Promise((resolveTiming, reject) => {
		const startedAt = performance.now();
		let firstByteAt = 0;
		const request = httpRequest(
			{
				agent,
				host: url.hostname,
				port: url.port,
				path: url.pathname,
				method: "POST",
				headers: {
					"content-type": "application/json",
					"content-length": Buffer.byteLength(body),
					...target.headers,
				},
			},
			(response) => {
				const chunks: Buffer[] = [];
				response.on("data", (chunk: Buffer) => {
					if (firstByteAt === 0) firstByteAt = performance.now();
					chunks.push(chunk);
				});
				response.on("end", () => {
					const endedAt = performance.now();
					const text = Buffer.concat(chunks).toString("utf8");
					if (response.statusCode !== 200) {
						reject(
							new Error(
								`${target.name}: status ${response.statusCode}: ${text.slice(0, 300)}`,
							),
						);
						return;
					}
					const complete = stream
						? text.includes("[DONE]")
						: text.includes('"choices"');
					if (!complete) {
						reject(
							new Error(
								`${target.name}: incomplete ${stream ? "stream" : "body"}: ${text.slice(-300)}`,
							),
						);
						return;
					}
					resolveTiming({ startedAt, firstByteAt, endedAt });
				});
				response.on("error", reject);
			},
		);
		request.setNoDelay(true);
		request.on("error", reject);
		request.end(body);
	});
}

/** Creates the keep-alive agent a run uses: one socket per worker. */
export function createAgent(concurrency: number): Agent {
	return new Agent({ keepAlive: true, maxSockets: concurrency });
}

/**
 * Runs one load cell. Workers start together, and the window opens once
 * each worker finished one warm-up request and `warmupMs` passed.
 */
export async function runLoad(
	options: LoadOptions & { warmupMs: number },
): Promise<LoadResult> {
	const agent = createAgent(options.concurrency);
	const samples: Sample[] = [];
	let errors = 0;
	let completed = 0;
	let firstError: string | undefined;
	let phase: "warmup" | "measure" | "stop" = "warmup";
	let windowStart = 0;

	const worker = async (): Promise<void> => {
		let warmed = false;
		while (phase !== "stop") {
			const measuring = phase === "measure";
			try {
				const timing = await sendOnce(
					agent,
					options.target,
					options.body,
					options.stream,
				);
				if (measuring && timing.startedAt >= windowStart) {
					samples.push({
						ttfbMs: timing.firstByteAt - timing.startedAt,
						totalMs: timing.endedAt - timing.startedAt,
					});
				}
				if (phase === "measure") completed += 1;
			} catch (error) {
				if (measuring) {
					errors += 1;
					firstError ??= (error as Error).message;
				}
			}
			if (!warmed) {
				warmed = true;
				warmedWorkers += 1;
			}
		}
	};

	let warmedWorkers = 0;
	const workers = Array.from({ length: options.concurrency }, worker);
	const warmupStart = performance.now();
	while (
		warmedWorkers < options.concurrency ||
		performance.now() - warmupStart < options.warmupMs
	) {
		await new Promise((wake) => setTimeout(wake, 20));
	}

	options.onWindow?.("start");
	windowStart = performance.now();
	phase = "measure";
	while (
		performance.now() - windowStart < options.durationMs ||
		samples.length + errors < options.minRequests
	) {
		await new Promise((wake) => setTimeout(wake, 20));
	}
	phase = "stop";
	const elapsedMs = performance.now() - windowStart;
	options.onWindow?.("end");
	await Promise.all(workers);
	agent.destroy();

	return {
		samples,
		completed,
		errors,
		elapsedMs,
		...(firstError ? { firstError } : {}),
	};
}

/** Returns a percentile by the nearest-rank method, or NaN for no values. */
export function percentile(values: number[], fraction: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil(fraction * sorted.length);
	return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
