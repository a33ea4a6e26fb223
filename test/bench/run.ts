/**
 * `npm run bench`: added latency and throughput of our gateway against the
 * Portkey open-source gateway and against calling the provider directly,
 * all on 127.0.0.1. It writes docs/benchmarks.json and docs/benchmarks.md.
 *
 * It starts DynamoDB Local (in memory) with the table, the provider
 * simulator, our gateway (the local runtime in front of the deployed
 * handlers, metering on) and the Portkey gateway, each gateway and the
 * simulator in its own process, then drives every target with the same load
 * (see scenarios.ts), counts DynamoDB calls and profiles our gateway (see
 * instrumented.ts), and measures bundle sizes and import time (see
 * bundles.ts).
 *
 * Environment: BENCH_SECONDS (measured seconds per cell, default 5),
 * BENCH_WARMUP_SECONDS (default 1), BENCH_MIN_REQUESTS (requests per cell at
 * least, default 20). Every process it starts is stopped on exit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createApiKey } from "../../functions/store/api-keys.ts";
import { createStore } from "../../functions/store/client.ts";
import { createWorkspace } from "../../functions/store/workspaces.ts";
import { createTable } from "../../infra/local/create-table.ts";
import {
	type DynamoDBLocal,
	localDynamoDBClient,
	startDynamoDBLocal,
} from "../../infra/local/dynamodb-local.ts";
import { localHandlerEnvironment } from "../../infra/local/environment.ts";
import { parseUsd } from "../../shared/money.ts";
import { measureBundles, measureImportTimes } from "./bundles.ts";
import {
	type DynamoDBCounter,
	startDynamoDBCounter,
} from "./dynamodb-counter.ts";
import {
	countAndTime,
	loadForProfile,
	summarizeProfile,
} from "./instrumented.ts";
import { createAgent, runLoad, sendOnce, type Target } from "./load.ts";
import {
	freePort,
	pidListeningOn,
	type ServiceChild,
	startGatewayChild,
	startPortkeyChild,
	startSimulatorChild,
} from "./processes.ts";
import { machineInfo, writeReport } from "./report.ts";
import {
	COMPLETION_TOKENS,
	chatBody,
	type MeasuredTarget,
	runMatrix,
	UPSTREAM_SETTINGS,
	type UpstreamSetting,
} from "./scenarios.ts";

const TABLE_NAME = "gag-bench";
const SIMULATOR_PROVIDER_PATH = "/p/sim-sg/openai/v1";
const COUNTED_REQUESTS_PER_MODE = 20;
const PROFILE_CONCURRENCY = 16;
const PROFILE_SECONDS = 5;
/** Unrecorded load per target before the matrix, in ms. */
const WARMUP_PASS_MS = 3_000;

const settings = {
	durationMs: readNumber("BENCH_SECONDS", 5) * 1000,
	warmupMs: readNumber("BENCH_WARMUP_SECONDS", 1) * 1000,
	minRequests: readNumber("BENCH_MIN_REQUESTS", 20),
};

const started = performance.now();
const log = (line: string) =>
	console.log(
		`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`,
	);

const stack: (() => Promise<void>)[] = [];
const profileDir = mkdtempSync(join(tmpdir(), "gag-bench-profile-"));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		console.error(`Stopping on ${signal}.`);
		void stopAll().then(() => process.exit(130));
	});
}

try {
	await main();
} catch (error) {
	console.error(`Benchmark failed: ${(error as Error).message}`);
	process.exitCode = 1;
} finally {
	await stopAll();
	rmSync(profileDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
	const machine = machineInfo();
	log(
		`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageAtStart}`,
	);

	const dynamodb = await startDynamoDBLocal();
	stack.push(() => dynamodb.stop());
	const dynamodbPid = pidListeningOn(dynamodb.port);
	await createBenchTable(dynamodb);
	log(`DynamoDB Local on ${dynamodb.endpoint}`);

	const simulator = await startSimulatorChild();
	stack.push(() => simulator.stop());
	const store = createStore({
		tableName: TABLE_NAME,
		endpoint: dynamodb.endpoint,
	});
	const workspace = await createWorkspace(store, {
		name: "Benchmark",
		cell: "global",
		creditMicroUsd: parseUsd("100000"),
		actor: "benchmark",
	});
	const { key } = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell: "global",
		name: "benchmark",
		scopes: ["chat.completions"],
		actor: "benchmark",
	});
	store.doc.destroy();

	const gatewayEnv = (dynamodbEndpoint: string) => ({
		...localHandlerEnvironment({
			tableName: TABLE_NAME,
			dynamodbEndpoint,
			simulatorUrl: simulator.url,
			cell: "global",
			catalogFile: "infra/catalog/local.json",
		}),
		POWERTOOLS_METRICS_NAMESPACE: "GlobalAIGateway",
	});
	const gateway = await startGatewayChild({
		env: gatewayEnv(dynamodb.endpoint),
	});
	stack.push(() => gateway.stop());
	const portkey = await startPortkeyChild(await freePort());
	stack.push(() => portkey.stop());
	log(
		`simulator ${simulator.url}, gateway ${gateway.url}, Portkey ${portkey.url}`,
	);

	const targets = buildTargets({
		simulator,
		gateway,
		portkey,
		key,
		dynamodbPid,
	});
	await checkTargets(targets);
	await setUpstream(simulator.url, UPSTREAM_SETTINGS[0] as UpstreamSetting);
	log("warming up every target (JIT compilation, DynamoDB Local included)");
	for (const target of targets) {
		await runLoad({
			target,
			body: chatBody(false),
			stream: false,
			concurrency: 16,
			durationMs: WARMUP_PASS_MS,
			warmupMs: 0,
			minRequests: 0,
		});
	}

	const cells = await runMatrix({
		targets,
		setUpstream: (setting) => setUpstream(simulator.url, setting),
		clearUpstreamLog: () => clearUpstreamLog(simulator.url),
		...settings,
		log,
	});

	log("instrumented pass: DynamoDB calls, phases and a CPU profile");
	// Paced tokens (19 gaps of 5 ms) keep a stream open after its first
	// byte, so the settle call cannot land before the client sees that byte.
	await setUpstream(simulator.url, {
		name: "zero",
		firstTokenLatencyMs: 0,
		tokensPerSecond: 200,
	});
	const counter: DynamoDBCounter = await startDynamoDBCounter(
		dynamodb.endpoint,
	);
	stack.push(() => counter.stop());
	const profiled = await startGatewayChild({
		env: gatewayEnv(counter.endpoint),
		nodeOptions: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
	});
	const profiledTarget = ourTarget(profiled.url, key);
	const instrumented = await countAndTime(
		counter,
		profiledTarget,
		COUNTED_REQUESTS_PER_MODE,
	);
	await setUpstream(simulator.url, UPSTREAM_SETTINGS[0] as UpstreamSetting);
	const profileWindow = await loadForProfile(
		profiledTarget,
		PROFILE_CONCURRENCY,
		PROFILE_SECONDS * 1000,
	);
	await profiled.stop();
	const profile = summarizeProfile(profileDir, profileWindow);

	log("stopping the load processes, then bundles and import times");
	await stopAll();
	const bundles = await measureBundles();
	const imports = measureImportTimes();

	const files = writeReport({
		machine: { ...machine, ...machineInfo("end") },
		settings: {
			...settings,
			profileConcurrency: PROFILE_CONCURRENCY,
			profileSeconds: PROFILE_SECONDS,
			countedRequestsPerMode: COUNTED_REQUESTS_PER_MODE,
		},
		cells,
		instrumented,
		profile,
		bundles,
		imports,
		durationSeconds: (performance.now() - started) / 1000,
	});
	log(`wrote ${files.join(" and ")}`);
}

async function createBenchTable(dynamodb: DynamoDBLocal): Promise<void> {
	const client = localDynamoDBClient(dynamodb.endpoint);
	try {
		await createTable(client, TABLE_NAME);
	} finally {
		client.destroy();
	}
}

function ourTarget(url: string, key: string): Target {
	return {
		name: "gateway",
		url: `${url}/v1/chat/completions`,
		headers: { authorization: `Bearer ${key}` },
	};
}

function buildTargets(running: {
	simulator: ServiceChild;
	gateway: ServiceChild;
	portkey: ServiceChild;
	key: string;
	dynamodbPid: number | undefined;
}): MeasuredTarget[] {
	const upstream = `${running.simulator.url}${SIMULATOR_PROVIDER_PATH}`;
	const simulatorProcess = { role: "simulator", pid: running.simulator.pid };
	return [
		{
			name: "direct",
			url: `${upstream}/chat/completions`,
			headers: { authorization: "Bearer sk-bench-direct" },
			processes: [simulatorProcess],
		},
		{
			...ourTarget(running.gateway.url, running.key),
			processes: [
				{ role: "gateway", pid: running.gateway.pid },
				simulatorProcess,
				...(running.dynamodbPid
					? [{ role: "dynamodb", pid: running.dynamodbPid }]
					: []),
			],
		},
		{
			name: "portkey",
			url: `${running.portkey.url}/v1/chat/completions`,
			headers: {
				authorization: "Bearer sk-bench-portkey",
				"x-portkey-provider": "openai",
				"x-portkey-custom-host": upstream,
			},
			processes: [
				{ role: "gateway", pid: running.portkey.pid },
				simulatorProcess,
			],
		},
	];
}

/** Sends one request of each mode to each target; throws on any failure. */
async function checkTargets(targets: Target[]): Promise<void> {
	const agent = createAgent(1);
	for (const target of targets) {
		for (const stream of [false, true]) {
			await sendOnce(agent, target, chatBody(stream), stream);
		}
	}
	agent.destroy();
}

async function setUpstream(
	simulatorUrl: string,
	setting: UpstreamSetting,
): Promise<void> {
	const response = await fetch(`${simulatorUrl}/__control/behaviour`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			behaviour: {
				firstTokenLatencyMs: setting.firstTokenLatencyMs,
				tokensPerSecond: setting.tokensPerSecond,
				completionTokens: COMPLETION_TOKENS,
			},
		}),
	});
	if (!response.ok) {
		throw new Error(
			`Setting the simulator behaviour failed with status ${response.status}: ${await response.text()}`,
		);
	}
}

async function clearUpstreamLog(simulatorUrl: string): Promise<void> {
	const response = await fetch(`${simulatorUrl}/__control/requests`, {
		method: "DELETE",
	});
	await response.text();
}

async function stopAll(): Promise<void> {
	while (stack.length > 0) {
		const stop = stack.pop() as () => Promise<void>;
		await stop().catch((error: unknown) =>
			console.error(`Stopping a process failed: ${(error as Error).message}`),
		);
	}
}

function readNumber(name: string, fallback: number): number {
	const raw = process.env[name];
	if (raw === undefined || raw === "") return fallback;
	const value = Number(raw);
	if (!Number.isFinite(value) || value <= 0) {
		throw new Error(`${name} must be a positive number, got "${raw}".`);
	}
	return value;
}
