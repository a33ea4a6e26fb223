/**
 * Starts the local runtime for a test file: a provider simulator in the test
 * process and the HTTP server in a child process, against the run's DynamoDB
 * Local table from the global setup.
 *
 * The server runs as a child because handlers keep module-level state (the
 * store client, the catalog cache, the key cache) that each runtime must
 * start without. The child exits when its IPC channel closes, so it dies with
 * the test worker even when the worker is killed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { localHandlerEnvironment } from "../../infra/local/environment.ts";
import {
	type Simulator,
	type SimulatorOptions,
	startSimulator,
} from "../../infra/local/simulator/server.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SERVE_ENTRY = resolve(REPO_ROOT, "infra/local/serve.ts");
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

export interface RuntimeOptions {
	/** Cell the handlers serve; `global` by default. */
	cell?: string;
	/** Catalog file; `infra/catalog/local.json` by default. */
	catalogFile?: string;
	/** Extra or overriding environment variables for the handlers. */
	env?: Record<string, string>;
	/** Options of the simulator this runtime starts. */
	simulator?: SimulatorOptions;
}

export interface Runtime {
	/** Server base URL, such as `http://127.0.0.1:40123`. */
	baseUrl: string;
	/** OpenAI-compatible base URL: `${baseUrl}/v1`. */
	apiUrl: string;
	simulator: Simulator;
	/** Process id of the server child. */
	pid: number;
	/** Stops the server child and the simulator. */
	stop(): Promise<void>;
}

/**
 * Starts simulator and server; the caller must `stop()` it in `afterAll`.
 *
 * @throws Error with the tail of the child's output when the server does not
 *   become ready within 30 s.
 */
export async function startRuntime(
	options: RuntimeOptions = {},
): Promise<Runtime> {
	const simulator = await startSimulator(options.simulator);
	const env = {
		...process.env,
		...localHandlerEnvironment({
			tableName: process.env.TABLE_NAME ?? inject("tableName"),
			dynamodbEndpoint:
				process.env.DYNAMODB_ENDPOINT ?? inject("dynamodbEndpoint"),
			simulatorUrl: simulator.url,
			cell: options.cell,
			catalogFile: options.catalogFile,
		}),
		PORT: "0",
		POWERTOOLS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "WARN",
		...options.env,
	};

	const child = spawn(process.execPath, [SERVE_ENTRY], {
		cwd: REPO_ROOT,
		env,
		stdio: ["ignore", "pipe", "pipe", "ipc"],
	});
	const killOnExit = () => child.kill("SIGKILL");
	process.once("exit", killOnExit);

	let url: string;
	try {
		url = await waitForReady(child);
	} catch (error) {
		child.kill("SIGKILL");
		process.off("exit", killOnExit);
		await simulator.stop();
		throw error;
	}

	return {
		baseUrl: url,
		apiUrl: `${url}/v1`,
		simulator,
		pid: child.pid ?? 0,
		stop: async () => {
			await stopChild(child);
			process.off("exit", killOnExit);
			await simulator.stop();
		},
	};
}

function waitForReady(child: ChildProcess): Promise<string> {
	let output = "";
	const collect = (chunk: Buffer) => {
		output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
		if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
	};
	child.stdout?.on("data", collect);
	child.stderr?.on("data", collect);

	return new Promise((resolveReady, reject) => {
		const timer = setTimeout(() => {
			reject(
				new Error(
					`The local server did not become ready within ${START_TIMEOUT_MS} ms. Its output:\n${output}`,
				),
			);
		}, START_TIMEOUT_MS);
		child.once("message", (message: { type?: string; url?: string }) => {
			if (message.type !== "ready" || !message.url) return;
			clearTimeout(timer);
			resolveReady(message.url);
		});
		child.once("exit", (code, signal) => {
			clearTimeout(timer);
			reject(
				new Error(
					`The local server exited before it was ready (code ${code}, signal ${signal}). Its output:\n${output}`,
				),
			);
		});
	});
}

async function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolveExit) =>
		child.once("exit", () => resolveExit()),
	);
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
	await exited;
	clearTimeout(timer);
}
