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
	keyCached: boolean,
): CallCounts {
	const before: number[] = [];
	const totals: number[] = [];
	const operations: Record<string, number> = {};
	for (const timing of timings) {
		const early = callsBetween(
			counter.calls,
			timing.startedAt,
			timing.firstByteAt,
		);
		const all = callsBetween(counter.calls, timing.startedAt, timing.endedAt);
		before.push(early.length);
		totals.push(all.length);
		for (const call of all) {
			operations[call.operation] = (operations[call.operation] ?? 0) + 1;
		}
	}
	return {
		mode,
		keyCached,
		requests: timings.length,
		beforeFirstByte: percentile(before, 0.5),
		beforeFirstByteMax: Math.max(...before),
		total: percentile(totals, 0.5),
		operations,
	};
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
 * Counts calls and times phases with sequential requests (concurrency 1):
 * one request with an empty key cache, then requests with a cached key.
 */
export async function countAndTime(
	counter: DynamoDBCounter,
	target: Target,
	requestsPerMode: number,
): Promise<InstrumentedResult> {
	const cold = await timedRequests(target, true, 1);
	const counts = [countCalls(counter, cold, "stream", false)];
	const streamed = await timedRequests(target, true, requestsPerMode);
	const buffered = await timedRequests(target, false, requestsPerMode);
	counts.push(countCalls(counter, streamed, "stream", true));
	counts.push(countCalls(counter, buffered, "non-stream", true));
	return { counts, phases: phaseTimings(counter, streamed) };
}

/** Runs one load cell against the profiled gateway. */
export async function loadForProfile(
	target: Target,
	concurrency: number,
	durationMs: number,
): Promise<number> {
	const result = await runLoad({
		target,
		body: chatBody(true),
		stream: true,
		concurrency,
		durationMs,
		warmupMs: 500,
		minRequests: 0,
	});
	return result.completed;
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
}

interface CpuProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
	nodes: CpuProfileNode[];
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

/** Summarizes the `.cpuprofile` in `dir` by self time. */
export function summarizeProfile(
	dir: string,
	requests: number,
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
	const byFunction = new Map<string, number>();
	const byArea = new Map<string, number>();
	let sampledUs = 0;
	profile.samples.forEach((id, index) => {
		const deltaUs = profile.timeDeltas[index] ?? 0;
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
	return {
		sampledMs: sampledUs / 1000,
		requests,
		functions: entries(byFunction, top),
		areas: entries(byArea, top),
	};
}
