/**
 * The instrumented pass over our gateway: a second gateway process whose
 * DynamoDB endpoint is the counting proxy, started with `--cpu-prof`. It
 * counts DynamoDB calls per request before the first byte and in total,
 * times the request phases from the proxy's timestamps, and profiles one
 * load cell. The proxy adds a loopback hop to every DynamoDB call, so these
 * timings are not the ones the matrix reports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DynamoDBCall, DynamoDBCounter } from "./dynamodb-counter.ts";
import {
	createAgent,
	percentile,
	runLoad,
	sendOnce,
	type Target,
	type Timing,
} from "./load.ts";
import { chatBody } from "./scenarios.ts";

export interface CallCounts {
	mode: "non-stream" | "stream";
	/** Whether the key was already in the gateway's key cache. */
	keyCached: boolean;
	requests: number;
	/** Median DynamoDB calls per request before the first byte of the body. */
	beforeFirstByte: number;
	/** Largest count before the first byte among these requests. */
	beforeFirstByteMax: number;
	/** Median DynamoDB calls per request from start to end. */
	total: number;
	/** Calls by operation, summed over these requests. */
	operations: Record<string, number>;
}

export interface PhaseTimings {
	requests: number;
	/** Medians in ms, each from the end of the previous phase. */
	medians: Record<string, number>;
}

function callsBetween(
	calls: DynamoDBCall[],
	from: number,
	to: number,
): DynamoDBCall[] {
	return calls.filter((call) => call.arrivedAt >= from && call.arrivedAt < to);
}

async function timedRequests(
	target: Target,
	stream: boolean,
	count: number,
): Promise<Timing[]> {
	const agent = createAgent(1);
	const timings: Timing[] = [];
	for (let index = 0; index < count; index++) {
		timings.push(await sendOnce(agent, target, chatBody(stream), stream));
	}
	agent.destroy();
	return timings;
}

function countCalls(
	counter: DynamoDBCounter,
	timings: Timing[],
	mode: CallCounts["mode"],
): CallCounts[] {
	const groups = new Map<boolean, { before: number[]; totals: number[] }>();
	const operations = new Map<boolean, Record<string, number>>();
	for (const timing of timings) {
		const early = callsBetween(
			counter.calls,
			timing.startedAt,
			timing.firstByteAt,
		);
		const all = callsBetween(counter.calls, timing.startedAt, timing.endedAt);
		// A request that read its key (GetItem) missed the key cache.
		const keyCached = !all.some((call) => call.operation === "GetItem");
		const group = groups.get(keyCached) ?? { before: [], totals: [] };
		group.before.push(early.length);
		group.totals.push(all.length);
		groups.set(keyCached, group);
		const counts = operations.get(keyCached) ?? {};
		for (const call of all) {
			counts[call.operation] = (counts[call.operation] ?? 0) + 1;
		}
		operations.set(keyCached, counts);
	}
	return [...groups.entries()].map(([keyCached, group]) => ({
		mode,
		keyCached,
		requests: group.before.length,
		beforeFirstByte: percentile(group.before, 0.5),
		beforeFirstByteMax: Math.max(...group.before),
		total: percentile(group.totals, 0.5),
		operations: operations.get(keyCached) ?? {},
	}));
}

/**
 * Splits each streamed request into phases by the proxy's timestamps of the
 * reserve and settle transactions (the first and second TransactWriteItems
 * of the request).
 */
function phaseTimings(
	counter: DynamoDBCounter,
	timings: Timing[],
): PhaseTimings {
	const phases: Record<string, number[]> = {
		"request start to reserve sent (parse, key from cache, validate, route)":
			[],
		"reserve round trip (TransactWriteItems through the proxy)": [],
		"reserve done to first byte (provider call, first event, write)": [],
		"first byte to settle sent (rest of the stream)": [],
		"settle round trip (TransactWriteItems through the proxy)": [],
		"settle done to last byte": [],
	};
	let used = 0;
	for (const timing of timings) {
		const writes = callsBetween(counter.calls, timing.startedAt, timing.endedAt)
			.filter((call) => call.operation === "TransactWriteItems")
			.sort((a, b) => a.arrivedAt - b.arrivedAt);
		const [reserve, settle] = writes;
		if (!reserve || !settle || writes.length !== 2) continue;
		used += 1;
		const values = [
			reserve.arrivedAt - timing.startedAt,
			reserve.respondedAt - reserve.arrivedAt,
			timing.firstByteAt - reserve.respondedAt,
			settle.arrivedAt - timing.firstByteAt,
			settle.respondedAt - settle.arrivedAt,
			timing.endedAt - settle.respondedAt,
		];
		Object.values(phases).forEach((list, index) => {
			list.push(values[index] as number);
		});
	}
	const medians: Record<string, number> = {};
	for (const [name, values] of Object.entries(phases)) {
		medians[name] = percentile(values, 0.5);
	}
	return { requests: used, medians };
}

export interface InstrumentedResult {
	counts: CallCounts[];
	phases: PhaseTimings;
}

/**
 * Counts calls and times phases with sequential requests (concurrency 1).
 * The first request finds the key cache empty, and so does any request after
 * the cache's 5 s lifetime. A request that reads its key counts as uncached.
 */
export async function countAndTime(
	counter: DynamoDBCounter,
	target: Target,
	requestsPerMode: number,
): Promise<InstrumentedResult> {
	const streamed = await timedRequests(target, true, requestsPerMode);
	const buffered = await timedRequests(target, false, requestsPerMode);
	const cachedStreams = streamed.filter(
		(timing) =>
			!callsBetween(counter.calls, timing.startedAt, timing.endedAt).some(
				(call) => call.operation === "GetItem",
			),
	);
	return {
		counts: [
			...countCalls(counter, streamed, "stream"),
			...countCalls(counter, buffered, "non-stream"),
		],
		phases: phaseTimings(counter, cachedStreams),
	};
}

export interface ProfileWindow {
	/** Requests completed inside the window. */
	requests: number;
	/** Window edges on the monotonic clock that CPU profiles use, in µs. */
	startUs: number;
	endUs: number;
}

function monotonicUs(): number {
	return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Runs streamed load against a target and returns its measured window, so
 * the profile summary can leave out start-up and warm-up samples.
 */
export async function loadForProfile(
	target: Target,
	concurrency: number,
	durationMs: number,
): Promise<ProfileWindow> {
	let startUs = 0;
	let endUs = 0;
	const result = await runLoad({
		target,
		body: chatBody(true),
		stream: true,
		concurrency,
		durationMs,
		warmupMs: 1_000,
		minRequests: 0,
		onWindow: (edge) => {
			if (edge === "start") startUs = monotonicUs();
			else endUs = monotonicUs();
		},
	});
	return { requests: result.completed, startUs, endUs };
}

export interface ProfileEntry {
	name: string;
	/** Self time in ms, and its share of the sampled time. */
	selfMs: number;
	share: number;
}

export interface ProfileSummary {
	sampledMs: number;
	requests: number;
	/** Self time by function, largest first. */
	functions: ProfileEntry[];
	/** Self time by package or area, largest first. */
	areas: ProfileEntry[];
	/**
	 * Busy (not idle) time in broad groups, with Node.js core time counted
	 * for its nearest caller outside the core; shares are of busy time.
	 */
	groups: ProfileEntry[];
}

/** Broad group of an area, for the summary of where CPU time goes. */
function groupOf(area: string): string {
	if (area === "(idle)") return "(idle)";
	if (area.startsWith("@smithy/") || area.startsWith("@aws-sdk/")) {
		return "AWS SDK (DynamoDB client: serialize, sign, send, parse)";
	}
	if (area === "functions/providers" || area === "eventsource-parser") {
		return "provider call (fetch, SSE parsing)";
	}
	if (
		area.startsWith("functions/") ||
		area.includes("/shared/") ||
		area.startsWith("@aws-lambda-powertools/") ||
		["zod", "ulid"].includes(area)
	) {
		return "gateway code and its libraries (zod, Powertools)";
	}
	if (area.startsWith("infra/"))
		return "local API Gateway and Lambda emulation";
	return "Node.js runtime not traced to a caller (event loop, streams, timers, GC)";
}

interface CpuProfileNode {
	id: number;
	children?: number[];
	callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
	nodes: CpuProfileNode[];
	startTime: number;
	samples: number[];
	timeDeltas: number[];
}

/** Package or area of a script URL, for grouping self time. */
function areaOf(url: string, functionName: string): string {
	if (!url) return `(${functionName.replace(/[()]/g, "") || "native"})`;
	if (url.startsWith("node:")) return "Node.js core";
	const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
	if (packageMatch) return packageMatch[1] as string;
	const projectMatch = /\/(functions|shared|infra)\/([^/]+)\//.exec(url);
	if (projectMatch) return `${projectMatch[1]}/${projectMatch[2]}`;
	return url.replace(/^file:\/\//, "");
}

/**
 * Area of the nearest frame, the sample's own or a caller's, that is not
 * Node.js core or native code, so that a socket write or a stream operation
 * counts for the code that called it. Undefined when no frame names a caller.
 */
function callerArea(
	id: number,
	nodes: Map<number, CpuProfileNode>,
	parents: Map<number, number>,
): string | undefined {
	for (
		let current: number | undefined = id;
		current !== undefined;
		current = parents.get(current)
	) {
		const frame = nodes.get(current)?.callFrame;
		if (!frame) return undefined;
		if (frame.functionName === "(idle)") return "(idle)";
		if (frame.url && !frame.url.startsWith("node:")) {
			return areaOf(frame.url, frame.functionName);
		}
		// In the gateway only the AWS SDK uses node:http's client, only the
		// provider adapters use fetch (undici), and only the local runtime
		// serves HTTP.
		if (frame.url === "node:_http_client") return "@aws-sdk/http-client";
		if (frame.url.startsWith("node:internal/deps/undici")) {
			return "functions/providers";
		}
		if (frame.url === "node:_http_server") return "infra/local";
	}
	return undefined;
}

/**
 * Summarizes the `.cpuprofile` in `dir` by self time, over the samples taken
 * inside `window`.
 */
export function summarizeProfile(
	dir: string,
	window: ProfileWindow,
	top = 15,
): ProfileSummary {
	const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
	if (!file) {
		throw new Error(
			`No .cpuprofile was written to ${dir}; the profiled gateway must exit normally.`,
		);
	}
	const profile = JSON.parse(
		readFileSync(join(dir, file), "utf8"),
	) as CpuProfile;
	const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
	const parents = new Map<number, number>();
	for (const node of profile.nodes) {
		for (const child of node.children ?? []) parents.set(child, node.id);
	}
	const byFunction = new Map<string, number>();
	const byArea = new Map<string, number>();
	const byGroup = new Map<string, number>();
	let sampledUs = 0;
	let sampleTimeUs = profile.startTime;
	profile.samples.forEach((id, index) => {
		const deltaUs = profile.timeDeltas[index] ?? 0;
		sampleTimeUs += deltaUs;
		if (sampleTimeUs < window.startUs || sampleTimeUs > window.endUs) return;
		const frame = nodes.get(id)?.callFrame;
		if (!frame) return;
		sampledUs += deltaUs;
		const location = frame.url
			? `${frame.url.replace(/^.*\/(node_modules|functions|shared|infra)\//, "$1/")}:${frame.lineNumber + 1}`
			: "";
		const name = `${frame.functionName || "(anonymous)"}${location ? ` ${location}` : ""}`;
		byFunction.set(name, (byFunction.get(name) ?? 0) + deltaUs);
		const area = areaOf(frame.url, frame.functionName);
		byArea.set(area, (byArea.get(area) ?? 0) + deltaUs);
		const group = groupOf(callerArea(id, nodes, parents) ?? area);
		byGroup.set(group, (byGroup.get(group) ?? 0) + deltaUs);
	});
	const entries = (map: Map<string, number>, limit: number) =>
		[...map.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, limit)
			.map(([name, us]) => ({
				name,
				selfMs: us / 1000,
				share: sampledUs > 0 ? us / sampledUs : 0,
			}));
	const idleUs = byGroup.get("(idle)") ?? 0;
	byGroup.delete("(idle)");
	const busyUs = sampledUs - idleUs;
	const groups = [...byGroup.entries()]
		.sort((a, b) => b[1] - a[1])
		.map(([name, us]) => ({
			name,
			selfMs: us / 1000,
			share: busyUs > 0 ? us / busyUs : 0,
		}));
	return {
		sampledMs: sampledUs / 1000,
		requests: window.requests,
		functions: entries(byFunction, top),
		areas: entries(byArea, top),
		groups,
	};
}
