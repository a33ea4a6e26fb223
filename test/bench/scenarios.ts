/**
 * The load matrix: every target gets the same requests at each upstream
 * setting, mode and concurrency. Targets run one after another inside each
 * cell, so a slow spell of the machine hits all three alike.
 */
import { loadavg } from "node:os";
import { percentile, runLoad, type Target } from "./load.ts";
import { cpuTimeMs, peakRssMiB, resetPeakRss } from "./processes.ts";

export interface UpstreamSetting {
	name: "zero" | "realistic";
	/** Simulator delay before the first token, in ms. */
	firstTokenLatencyMs: number;
	/** Simulator token pace; 0 sends tokens without delay. */
	tokensPerSecond: number;
}

/** Tokens of every completion, so a realistic request takes about 0.7 s. */
export const COMPLETION_TOKENS = 20;

export const UPSTREAM_SETTINGS: UpstreamSetting[] = [
	{ name: "zero", firstTokenLatencyMs: 0, tokensPerSecond: 0 },
	{ name: "realistic", firstTokenLatencyMs: 300, tokensPerSecond: 50 },
];
export const CONCURRENCIES = [1, 16, 64];
export const MODES = ["non-stream", "stream"] as const;
export type Mode = (typeof MODES)[number];

export interface MeasuredTarget extends Target {
	/** Processes whose CPU time and peak memory count for this target. */
	processes: { role: string; pid: number }[];
}

export interface CellResult {
	target: string;
	upstream: UpstreamSetting["name"];
	mode: Mode;
	concurrency: number;
	requests: number;
	errors: number;
	firstError?: string;
	requestsPerSecond: number;
	ttfbP50Ms: number;
	ttfbP99Ms: number;
	totalP50Ms: number;
	totalP99Ms: number;
	/** CPU time per completed request of each process role, in ms. */
	cpuMsPerRequest: Record<string, number>;
	/** Peak resident memory during the cell of each process role, in MiB. */
	peakRssMiB: Record<string, number>;
	/** One-minute load average of the machine when the cell ended. */
	loadAverage: number;
}

export interface MatrixOptions {
	targets: MeasuredTarget[];
	/** Sets the simulator's global behaviour. */
	setUpstream: (setting: UpstreamSetting) => Promise<void>;
	/** Empties the simulator's request log between cells. */
	clearUpstreamLog: () => Promise<void>;
	durationMs: number;
	warmupMs: number;
	minRequests: number;
	log: (line: string) => void;
}

/** Request body shared by every target; the same bytes for each. */
export function chatBody(stream: boolean): string {
	return JSON.stringify({
		model: "gpt-4o-mini",
		messages: [
			{ role: "user", content: "Say hello to the benchmark in one line." },
		],
		max_tokens: COMPLETION_TOKENS,
		...(stream
			? { stream: true, stream_options: { include_usage: true } }
			: {}),
	});
}

/** Runs every cell of the matrix and returns one result per target and cell. */
export async function runMatrix(options: MatrixOptions): Promise<CellResult[]> {
	const results: CellResult[] = [];
	const total =
		UPSTREAM_SETTINGS.length *
		MODES.length *
		CONCURRENCIES.length *
		options.targets.length;
	for (const upstream of UPSTREAM_SETTINGS) {
		await options.setUpstream(upstream);
		for (const mode of MODES) {
			for (const concurrency of CONCURRENCIES) {
				for (const target of options.targets) {
					const result = await runCell(options, target, {
						upstream,
						mode,
						concurrency,
					});
					results.push(result);
					await options.clearUpstreamLog();
					options.log(
						`[${results.length}/${total}] ${upstream.name} ${mode} c=${concurrency} ${target.name}: ${result.requestsPerSecond.toFixed(0)} req/s, TTFB p50 ${result.ttfbP50Ms.toFixed(1)} ms, total p99 ${result.totalP99Ms.toFixed(1)} ms${result.errors ? `, ${result.errors} errors` : ""}`,
					);
				}
			}
		}
	}
	return results;
}

async function runCell(
	options: MatrixOptions,
	target: MeasuredTarget,
	cell: { upstream: UpstreamSetting; mode: Mode; concurrency: number },
): Promise<CellResult> {
	const cpuBefore = new Map<string, number>();
	const cpuAfter = new Map<string, number>();
	const stream = cell.mode === "stream";

	const load = await runLoad({
		target,
		body: chatBody(stream),
		stream,
		concurrency: cell.concurrency,
		durationMs: options.durationMs,
		warmupMs: options.warmupMs,
		minRequests: options.minRequests,
		onWindow: (edge) => {
			for (const { role, pid } of target.processes) {
				if (edge === "start") {
					resetPeakRss(pid);
					cpuBefore.set(role, cpuTimeMs(pid));
				} else {
					cpuAfter.set(role, cpuTimeMs(pid));
				}
			}
		},
	});

	const cpuMsPerRequest: Record<string, number> = {};
	const peak: Record<string, number> = {};
	for (const { role, pid } of target.processes) {
		const used = (cpuAfter.get(role) ?? 0) - (cpuBefore.get(role) ?? 0);
		cpuMsPerRequest[role] = load.completed > 0 ? used / load.completed : 0;
		peak[role] = peakRssMiB(pid);
	}
	const ttfb = load.samples.map((sample) => sample.ttfbMs);
	const totals = load.samples.map((sample) => sample.totalMs);
	return {
		target: target.name,
		upstream: cell.upstream.name,
		mode: cell.mode,
		concurrency: cell.concurrency,
		requests: load.samples.length,
		errors: load.errors,
		...(load.firstError ? { firstError: load.firstError } : {}),
		requestsPerSecond: (load.completed * 1000) / load.elapsedMs,
		ttfbP50Ms: percentile(ttfb, 0.5),
		ttfbP99Ms: percentile(ttfb, 0.99),
		totalP50Ms: percentile(totals, 0.5),
		totalP99Ms: percentile(totals, 0.99),
		cpuMsPerRequest,
		peakRssMiB: peak,
		loadAverage: loadavg()[0] ?? Number.NaN,
	};
}
