/**
 * Writes the benchmark's figures to docs/benchmarks.json and renders
 * docs/benchmarks.md from them: the targets with met or not met, the result
 * tables, DynamoDB calls, request phases, the CPU profile, bundle sizes and
 * import times.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import type { BundleSize, ImportTiming } from "./bundles.ts";
import type { InstrumentedResult, ProfileSummary } from "./instrumented.ts";
import { REPO_ROOT } from "./processes.ts";
import {
	type CellResult,
	COMPLETION_TOKENS,
	CONCURRENCIES,
	MODES,
	type Mode,
	UPSTREAM_SETTINGS,
} from "./scenarios.ts";

/** Largest minified chat bundle the targets allow, in bytes (1 MB). */
const CHAT_BUNDLE_LIMIT_BYTES = 1_000_000;
const COMMAND = "npm run bench";

export interface MachineInfo {
	cpuModel: string;
	cores: number;
	memoryGiB: number;
	node: string;
	date: string;
	loadAverageAtStart: string;
}

/** Describes the machine; `end` gives the load average when the run ends. */
export function machineInfo(): MachineInfo;
export function machineInfo(at: "end"): { loadAverageAtEnd: string };
export function machineInfo(
	at?: "end",
): MachineInfo | { loadAverageAtEnd: string } {
	const load = loadavg()
		.map((value) => value.toFixed(2))
		.join(" ");
	if (at === "end") return { loadAverageAtEnd: load };
	return {
		cpuModel: cpus()[0]?.model ?? "unknown",
		cores: cpus().length,
		memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
		node: process.version,
		date: new Date().toISOString(),
		loadAverageAtStart: load,
	};
}

export interface Report {
	machine: MachineInfo & { loadAverageAtEnd: string };
	settings: {
		durationMs: number;
		warmupMs: number;
		minRequests: number;
		profileConcurrency: number;
		profileSeconds: number;
		countedRequestsPerMode: number;
	};
	cells: CellResult[];
	instrumented: InstrumentedResult;
	profile: ProfileSummary;
	bundles: BundleSize[];
	imports: ImportTiming[];
	durationSeconds: number;
}

interface Verdict {
	target: string;
	figure: string;
	met: boolean;
	/** Cells that missed, when the target is checked per cell. */
	missedIn?: string[];
}

/** Writes both files and returns their paths relative to the repository. */
export function writeReport(report: Report): string[] {
	const verdicts = evaluateTargets(report);
	const json = {
		command: COMMAND,
		...report,
		added: addedLatencies(report.cells),
		targets: verdicts,
	};
	writeFileSync(
		resolve(REPO_ROOT, "docs/benchmarks.json"),
		`${JSON.stringify(json, null, "\t")}\n`,
	);
	writeFileSync(
		resolve(REPO_ROOT, "docs/benchmarks.md"),
		renderMarkdown(report, verdicts),
	);
	return ["docs/benchmarks.json", "docs/benchmarks.md"];
}

function cellOf(
	cells: CellResult[],
	target: string,
	upstream: string,
	mode: Mode,
	concurrency: number,
): CellResult | undefined {
	return cells.find(
		(cell) =>
			cell.target === target &&
			cell.upstream === upstream &&
			cell.mode === mode &&
			cell.concurrency === concurrency,
	);
}

export interface Added {
	target: string;
	upstream: string;
	mode: Mode;
	concurrency: number;
	ttfbP50Ms: number;
	ttfbP99Ms: number;
	totalP50Ms: number;
	totalP99Ms: number;
}

/**
 * Latency a gateway adds over the direct call in the same cell: the
 * gateway's percentile minus the direct percentile (not the percentile of
 * per-request differences, which a closed loop cannot pair).
 */
function addedLatencies(cells: CellResult[]): Added[] {
	const added: Added[] = [];
	for (const cell of cells) {
		if (cell.target === "direct") continue;
		const direct = cellOf(
			cells,
			"direct",
			cell.upstream,
			cell.mode,
			cell.concurrency,
		);
		if (!direct) continue;
		added.push({
			target: cell.target,
			upstream: cell.upstream,
			mode: cell.mode,
			concurrency: cell.concurrency,
			ttfbP50Ms: cell.ttfbP50Ms - direct.ttfbP50Ms,
			ttfbP99Ms: cell.ttfbP99Ms - direct.ttfbP99Ms,
			totalP50Ms: cell.totalP50Ms - direct.totalP50Ms,
			totalP99Ms: cell.totalP99Ms - direct.totalP99Ms,
		});
	}
	return added;
}

function addedOf(
	added: Added[],
	target: string,
	upstream: string,
	mode: Mode,
	concurrency: number,
): Added | undefined {
	return added.find(
		(entry) =>
			entry.target === target &&
			entry.upstream === upstream &&
			entry.mode === mode &&
			entry.concurrency === concurrency,
	);
}

const ms = (value: number | undefined) =>
	value === undefined || Number.isNaN(value) ? "n/a" : `${value.toFixed(1)}`;

function evaluateTargets(report: Report): Verdict[] {
	const added = addedLatencies(report.cells);
	const verdicts: Verdict[] = [];
	const pair = (upstream: string, mode: Mode, concurrency: number) => ({
		ours: addedOf(added, "gateway", upstream, mode, concurrency),
		portkey: addedOf(added, "portkey", upstream, mode, concurrency),
	});

	const ttfbP50: string[] = [];
	const ttfbP99: string[] = [];
	const ttfbP50Missed: string[] = [];
	const ttfbP99Missed: string[] = [];
	for (const concurrency of CONCURRENCIES) {
		const { ours, portkey } = pair("realistic", "stream", concurrency);
		if (!ours || !portkey) continue;
		if (ours.ttfbP50Ms > portkey.ttfbP50Ms) {
			ttfbP50Missed.push(`c=${concurrency}`);
		}
		if (ours.ttfbP99Ms > 1.5 * portkey.ttfbP99Ms) {
			ttfbP99Missed.push(`c=${concurrency}`);
		}
		ttfbP50.push(
			`c=${concurrency}: ${ms(ours.ttfbP50Ms)} vs ${ms(portkey.ttfbP50Ms)} ms`,
		);
		ttfbP99.push(
			`c=${concurrency}: ${ms(ours.ttfbP99Ms)} vs 1.5 × ${ms(portkey.ttfbP99Ms)} = ${ms(1.5 * portkey.ttfbP99Ms)} ms`,
		);
	}
	verdicts.push({
		target:
			"Added TTFB, realistic upstream, streamed: p50 ≤ Portkey's (key auth and credit reservation included)",
		figure: ttfbP50.join("; "),
		met: ttfbP50Missed.length === 0,
		missedIn: ttfbP50Missed,
	});
	verdicts.push({
		target: "Added TTFB, realistic upstream, streamed: p99 ≤ 1.5 × Portkey's",
		figure: ttfbP99.join("; "),
		met: ttfbP99Missed.length === 0,
		missedIn: ttfbP99Missed,
	});

	const zero: string[] = [];
	const zeroMissed: string[] = [];
	for (const mode of MODES) {
		for (const concurrency of CONCURRENCIES) {
			const { ours, portkey } = pair("zero", mode, concurrency);
			if (!ours || !portkey) continue;
			if (ours.totalP50Ms > 2 * portkey.totalP50Ms) {
				zeroMissed.push(`${mode} c=${concurrency}`);
			}
			zero.push(
				`${mode} c=${concurrency}: ${ms(ours.totalP50Ms)} vs 2 × ${ms(portkey.totalP50Ms)} = ${ms(2 * portkey.totalP50Ms)} ms`,
			);
		}
	}
	verdicts.push({
		target: "Added latency (total), zero-latency upstream: p50 ≤ 2 × Portkey's",
		figure: zero.join("; "),
		met: zeroMissed.length === 0,
		missedIn: zeroMissed,
	});

	const throughput: string[] = [];
	let throughputMet = true;
	for (const mode of MODES) {
		const ours = cellOf(report.cells, "gateway", "zero", mode, 64);
		const portkey = cellOf(report.cells, "portkey", "zero", mode, 64);
		if (!ours || !portkey) continue;
		throughputMet &&= ours.requestsPerSecond >= portkey.requestsPerSecond;
		throughput.push(
			`${mode}: ${ours.requestsPerSecond.toFixed(0)} vs ${portkey.requestsPerSecond.toFixed(0)} req/s`,
		);
	}
	verdicts.push({
		target:
			"Throughput at concurrency 64, zero-latency upstream, metering on: ≥ Portkey's",
		figure: throughput.join("; "),
		met: throughputMet,
	});

	const cached = report.instrumented.counts.find(
		(count) => count.mode === "stream" && count.keyCached,
	);
	verdicts.push({
		target:
			"DynamoDB round trips before the first byte with a cached key (streamed): ≤ 1",
		figure: cached
			? `median ${cached.beforeFirstByte}, max ${cached.beforeFirstByteMax} over ${cached.requests} requests`
			: "not measured",
		met: cached !== undefined && cached.beforeFirstByteMax <= 1,
	});

	const chat = report.bundles.find((bundle) => bundle.handler === "chat");
	verdicts.push({
		target: "Chat bundle, minified: < 1 MB (1,000,000 bytes)",
		figure: chat ? `${chat.bytes.toLocaleString("en-US")} bytes` : "n/a",
		met: chat !== undefined && chat.bytes < CHAT_BUNDLE_LIMIT_BYTES,
	});
	return verdicts;
}

function verdictText(verdict: Verdict): string {
	if (verdict.met) return "met";
	if (!verdict.missedIn || verdict.missedIn.length === 0) return "**not met**";
	return `**not met** in ${verdict.missedIn.join(", ")}`;
}

function table(header: string[], rows: string[][]): string {
	return [
		`| ${header.join(" | ")} |`,
		`| ${header.map(() => "---").join(" | ")} |`,
		...rows.map((row) => `| ${row.join(" | ")} |`),
	].join("\n");
}

function resultTables(report: Report): string {
	const added = addedLatencies(report.cells);
	const sections: string[] = [];
	for (const upstream of UPSTREAM_SETTINGS) {
		for (const mode of MODES) {
			const rows: string[][] = [];
			for (const concurrency of CONCURRENCIES) {
				for (const target of ["direct", "gateway", "portkey"]) {
					const cell = cellOf(
						report.cells,
						target,
						upstream.name,
						mode,
						concurrency,
					);
					if (!cell) continue;
					const extra = addedOf(
						added,
						target,
						upstream.name,
						mode,
						concurrency,
					);
					rows.push([
						String(concurrency),
						target === "gateway" ? "**ours**" : target,
						cell.requestsPerSecond.toFixed(0),
						`${ms(cell.ttfbP50Ms)} / ${ms(cell.ttfbP99Ms)}`,
						`${ms(cell.totalP50Ms)} / ${ms(cell.totalP99Ms)}`,
						extra ? `${ms(extra.ttfbP50Ms)} / ${ms(extra.ttfbP99Ms)}` : "",
						extra ? `${ms(extra.totalP50Ms)} / ${ms(extra.totalP99Ms)}` : "",
						target === "direct" ? "" : ms(cell.cpuMsPerRequest.gateway),
						target === "gateway" ? ms(cell.cpuMsPerRequest.dynamodb) : "",
						target === "direct" ? "" : ms(cell.peakRssMiB.gateway),
						`${cell.requests}${cell.errors ? ` (${cell.errors} failed)` : ""}`,
					]);
				}
			}
			sections.push(
				`### ${upstream.name === "zero" ? "Zero-latency upstream" : `Realistic upstream (${upstream.firstTokenLatencyMs} ms to the first token, ${upstream.tokensPerSecond} tokens/s)`}, ${mode === "stream" ? "streamed" : "not streamed"}\n\n${table(
					[
						"c",
						"target",
						"req/s",
						"TTFB p50 / p99 ms",
						"total p50 / p99 ms",
						"added TTFB p50 / p99 ms",
						"added total p50 / p99 ms",
						"gateway CPU ms/req",
						"DynamoDB Local CPU ms/req",
						"gateway peak RSS MiB",
						"requests",
					],
					rows,
				)}`,
			);
		}
	}
	return sections.join("\n\n");
}

function countsTable(report: Report): string {
	return table(
		[
			"mode",
			"key cache",
			"requests",
			"before first byte (median / max)",
			"total (median)",
			"operations (sum)",
		],
		report.instrumented.counts.map((count) => [
			count.mode,
			count.keyCached ? "cached" : "empty",
			String(count.requests),
			`${count.beforeFirstByte} / ${count.beforeFirstByteMax}`,
			String(count.total),
			Object.entries(count.operations)
				.map(([operation, calls]) => `${operation} ${calls}`)
				.join(", "),
		]),
	);
}

function phasesTable(report: Report): string {
	return table(
		[
			"phase (streamed, cached key, first token at once, then 200 tokens/s)",
			"median ms",
		],
		Object.entries(report.instrumented.phases.medians).map(([phase, value]) => [
			phase,
			ms(value),
		]),
	);
}

function profileTables(report: Report): string {
	const { profile } = report;
	const groupRows = profile.groups.map((group) => [
		group.name,
		`${(group.share * 100).toFixed(1)} %`,
		profile.requests > 0 ? (group.selfMs / profile.requests).toFixed(3) : "n/a",
	]);
	const perRequest = (selfMs: number) =>
		profile.requests > 0 ? (selfMs / profile.requests).toFixed(3) : "n/a";
	const rows = (entries: ProfileSummary["areas"]) =>
		entries.map((entry) => [
			`\`${entry.name}\``,
			`${(entry.share * 100).toFixed(1)} %`,
			perRequest(entry.selfMs),
		]);
	return [
		table(["group", "share of busy time", "ms per request"], groupRows),
		table(
			["area", "share of self time", "ms per request"],
			rows(profile.areas),
		),
		table(
			["function", "share of self time", "ms per request"],
			rows(profile.functions),
		),
	].join("\n\n");
}

function bundleTable(report: Report): string {
	return table(
		["handler", "minified bytes (as deployed)", "with @aws-sdk bundled"],
		report.bundles.map((bundle) => [
			bundle.handler,
			bundle.bytes.toLocaleString("en-US"),
			bundle.bytesWithSdk.toLocaleString("en-US"),
		]),
	);
}

function importTable(report: Report): string {
	return table(
		["module", "import ms (median)", "node process ms (median)", "runs"],
		report.imports.map((timing) => [
			timing.module,
			ms(timing.importMs),
			ms(timing.processMs),
			String(timing.runs),
		]),
	);
}

function cpuSentence(report: Report, mode: Mode): string {
	const ours = cellOf(report.cells, "gateway", "zero", mode, 64);
	const portkey = cellOf(report.cells, "portkey", "zero", mode, 64);
	if (!ours || !portkey) return "";
	return `${mode === "stream" ? "Streamed" : "Not streamed"}, our gateway process used ${ms(ours.cpuMsPerRequest.gateway)} ms, DynamoDB Local ${ms(ours.cpuMsPerRequest.dynamodb)} ms and Portkey ${ms(portkey.cpuMsPerRequest.gateway)} ms.`;
}

function gapAnalysis(report: Report): string {
	const lines: string[] = [];
	const cores = report.machine.cores;
	lines.push(
		`**CPU per request decides throughput here.** These are CPU times per request with a zero-latency upstream at concurrency 64. ${cpuSentence(report, "non-stream")} ${cpuSentence(report, "stream")} The load client, the simulator and both gateways share ${cores} cores, so requests per second approach ${cores} × 1000 / (CPU ms per request of everything on the path). Every request of ours runs two DynamoDB transactions (reserve and settle), and DynamoDB Local, a JVM emulator on SQLite, spends more CPU on them than our gateway process does. A deployed cell does not run DynamoDB on the function's host, so this part of the gap belongs to the test bed, but the gateway's own CPU per request does not.`,
	);

	const direct64 = cellOf(report.cells, "direct", "realistic", "stream", 64);
	const ours64 = cellOf(report.cells, "gateway", "realistic", "stream", 64);
	if (direct64 && ours64) {
		const cpuMs =
			(ours64.cpuMsPerRequest.gateway ?? 0) +
			(ours64.cpuMsPerRequest.dynamodb ?? 0);
		lines.push(
			`**Queueing at concurrency 64 with the realistic upstream.** The provider alone serves ${direct64.requestsPerSecond.toFixed(0)} req/s at this concurrency. Our gateway and DynamoDB Local together used ${ms(cpuMs)} ms of CPU per request there, so that rate needs about ${((direct64.requestsPerSecond * cpuMs) / 1000).toFixed(1)} of the ${cores} cores, which the load client and the simulator also use. Requests wait for CPU, and that wait is the added TTFB at c=64 (ours served ${ours64.requestsPerSecond.toFixed(0)} req/s).`,
		);
	}

	const groups = report.profile.groups
		.map((group) => `${group.name} ${(group.share * 100).toFixed(0)} %`)
		.join(", ");
	const busyPerRequest =
		report.profile.requests > 0
			? report.profile.groups.reduce((sum, group) => sum + group.selfMs, 0) /
				report.profile.requests
			: Number.NaN;
	lines.push(
		`**Where our gateway's CPU goes.** Under \`--cpu-prof\` (streamed, concurrency ${report.settings.profileConcurrency}, zero-latency upstream), the gateway process was busy ${ms(busyPerRequest)} ms per request, profiler overhead included. Its busy time splits into these groups: ${groups}. Node.js core time (socket writes, streams, HTTP) counts for its nearest caller outside the core, so the AWS SDK share includes the loopback writes of the two DynamoDB calls.`,
	);

	const phases = Object.values(report.instrumented.phases.medians);
	const [beforeReserve, reserve, toFirstByte] = phases;
	lines.push(
		`**Where the time to first byte goes** (one request at a time, cached key, first token at once, through the counting proxy). The request takes ${ms(beforeReserve)} ms to reach the reserve call (local API Gateway emulation, body parse, key from the cache, validation, routing). The reserve transaction takes ${ms(reserve)} ms, and ${ms(toFirstByte)} ms pass from the reservation to the first byte at the client (provider call, first event, and the write through the streaming emulation). A streamed request makes exactly one DynamoDB round trip before its first byte.`,
	);

	lines.push(
		"**The reservation overlaps the provider's first token.** When the balance and key budget last seen cover at least twenty times the request's worst-case cost, and no idempotency key or rate limit could refuse it, the gateway starts the provider call while the reserve transaction is in flight and sends nothing to the client until the reservation holds (functions/chat/reserve.ts, `canOverlapReservation`). With a realistic upstream the reserve round trip then hides inside the provider's 300 ms to first token, which is why the realistic added TTFB stays small even where DynamoDB Local queues. With a zero-latency upstream there is nothing to hide it behind, so the overlap does not change the zero-latency figures.",
	);

	lines.push(
		"**Portkey's streamed TTFB.** Portkey 1.15.2's SSE passthrough waits 25 ms (`setTimeout(…, 25)` in `build/start-server.js`) before it forwards the first event of a stream, so its streamed TTFB carries a fixed 25 ms that its buffered responses do not. That is why our added TTFB can be lower than Portkey's for streams while our added latency without streaming is higher.",
	);
	return lines.join("\n\n");
}

function renderMarkdown(report: Report, verdicts: Verdict[]): string {
	const { machine, settings } = report;
	return `# Benchmarks

Added latency and throughput of this gateway against the
[Portkey open-source gateway](https://github.com/Portkey-AI/gateway)
(\`@portkey-ai/gateway\` 1.15.2) and against calling the provider directly,
all on 127.0.0.1. Produced by \`${COMMAND}\` (test/bench/run.ts), which
writes this page and [benchmarks.json](benchmarks.json); every figure below
is from that one run.

- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}
- Date: ${machine.date}; the run took ${report.durationSeconds.toFixed(0)} s
- Load average (1, 5, 15 min) at start: ${machine.loadAverageAtStart}; at end: ${machine.loadAverageAtEnd}

NOTE: the load client, both gateways, the simulator and DynamoDB Local share
these ${machine.cores} cores, and other work ran on the machine at the same
time (see the load averages). Throughput is CPU-bound at concurrency 64 with
a zero-latency upstream, so it measures CPU cost per request more than any
gateway's ceiling. Treat single figures as ±10 % or more; compare targets
within one cell, where they ran back to back.

## Targets

${table(
	["target", "figure (ours vs Portkey)", "result"],
	verdicts.map((verdict) => [
		verdict.target,
		verdict.figure,
		verdictText(verdict),
	]),
)}

## What explains the gaps

${gapAnalysis(report)}

## How it measures

- Targets: **direct** is the provider simulator's OpenAI route
  (\`/p/sim-sg/openai/v1/chat/completions\`). **Ours** is the local runtime
  (API Gateway emulation in front of the deployed chat handler) with a real
  API key, key auth, credit reservation before the provider call and
  settlement (usage event, ledger, balance) before the response ends, on
  DynamoDB Local in memory; **portkey** is \`build/start-server.js
  --headless\` with \`x-portkey-provider: openai\` and
  \`x-portkey-custom-host\` pointing at the same simulator route. Portkey
  meters nothing. Each gateway and the simulator run in their own process.
- Upstream: the simulator returns ${COMPLETION_TOKENS} tokens; \`zero\` sends them
  without delay, \`realistic\` waits 300 ms for the first token, then paces
  50 tokens per second (about 0.7 s per request).
- Load: a closed loop of c workers over keep-alive connections
  (test/bench/load.ts), one client for every figure. Each cell warms up for
  ${settings.warmupMs / 1000} s (and at least one request per worker), then measures for
  ${settings.durationMs / 1000} s or ${settings.minRequests} requests, whichever is longer. Autocannon is not used,
  because it cannot time the first byte of a stream.
- TTFB is the time from sending the request to the first byte of the body
  (for a stream, the first SSE event; without streaming, the whole JSON body
  arrives at once). Total is the time to the last byte. Added latency is the
  gateway's percentile minus the direct percentile of the same cell.
- CPU per request is the process's user plus system time
  (/proc/<pid>/stat, 10 ms ticks) over the measured window, divided by the
  requests completed in it. Peak RSS is VmHWM, reset before each cell
  through /proc/<pid>/clear_refs.
- DynamoDB calls: a second gateway process points at a counting proxy in
  front of DynamoDB Local and gets ${settings.countedRequestsPerMode} sequential requests per mode. A
  call counts before the first byte when the proxy received it before the
  client saw the first byte. The same process then runs ${settings.profileSeconds} s of streamed
  load at concurrency ${settings.profileConcurrency} under \`--cpu-prof\`.
- Bundles use the esbuild settings of the CDK functions (ESM, platform
  node, target node24, minified, \`@aws-sdk/*\` external); import time is the
  median of ${report.imports[0]?.runs ?? 0} \`node -e\` runs of a dynamic \`import()\`.
- Portkey 1.15.2 listens on every interface and has no host option, so the
  benchmark preloads test/bench/network-guard.ts into its process: listeners
  bind to 127.0.0.1 and connections to non-loopback hosts are rejected.
- Our gateway runs with its deployed logging (INFO, one JSON line per
  request) and EMF metrics; the local runtime adds one access log line per
  request that API Gateway would write instead.

## Results

${resultTables(report)}

## DynamoDB calls per request (ours)

${countsTable(report)}

A streamed response's first byte follows the reserve transaction only. A
response that is not streamed is written in one piece after the settle
transaction, so its first byte follows both. With an empty key cache, the
key and workspace reads (two GetItem calls) come first; the cache keeps a
key for at most 5 s.

## Request phases (ours)

${phasesTable(report)}

## CPU profile of our gateway

Self time over the ${report.settings.profileSeconds} s measured window (start-up and warm-up left out),
${report.profile.requests} streamed requests at concurrency ${report.settings.profileConcurrency}, zero-latency upstream. Shares of the
area and function tables include idle time.

${profileTables(report)}

## Lambda bundles

${bundleTable(report)}

## Import time of the chat handler

${importTable(report)}

The bundle imports \`@aws-sdk/*\` from node_modules, as the nodejs24.x
runtime provides it; Lambda's own cold start is not included.
`;
}
