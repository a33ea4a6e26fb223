/**
 * Starts `test/fixtures/gateway-process.ts` as a child process for the
 * resilience suites: the gateway and its simulator in one process that a
 * test can kill with SIGKILL, restart, and whose every output line it keeps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = resolve(REPO_ROOT, "test/fixtures/gateway-process.ts");
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface GatewayChild {
	/** Server base URL, such as `http://127.0.0.1:40123`. */
	baseUrl: string;
	/** OpenAI-compatible base URL: `${baseUrl}/v1`. */
	apiUrl: string;
	simulatorUrl: string;
	/** Resolves when the process has exited, for whatever reason. */
	exited: Promise<void>;
	/** Kills the process with SIGKILL and waits for it to exit. */
	kill(): Promise<void>;
	/** Stops the process with SIGTERM (SIGKILL after 10 s) and waits. */
	stop(): Promise<void>;
}

export interface GatewayChildOptions {
	/** Extra environment variables, such as POWERTOOLS_LOG_LEVEL. */
	env?: Record<string, string>;
	/** Receives every stdout and stderr line the process prints. */
	onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

/**
 * Starts the gateway process against the run's DynamoDB Local table.
 *
 * @throws Error with the process output when it exits or stays silent for
 *   60 s before it prints its ready line.
 */
export async function startGatewayChild(
	options: GatewayChildOptions = {},
): Promise<GatewayChild> {
	const child = spawn(process.execPath, [ENTRY], {
		cwd: REPO_ROOT,
		env: {
			...process.env,
			TABLE_NAME: process.env.TABLE_NAME ?? inject("tableName"),
			DYNAMODB_ENDPOINT:
				process.env.DYNAMODB_ENDPOINT ?? inject("dynamodbEndpoint"),
			POWERTOOLS_LOG_LEVEL: "WARN",
			...options.env,
		},
		stdio: ["ignore", "pipe", "pipe", "ipc"],
	});
	const killOnExit = () => child.kill("SIGKILL");
	process.once("exit", killOnExit);
	const exited = new Promise<void>((resolveExit) =>
		child.once("exit", () => {
			process.off("exit", killOnExit);
			resolveExit();
		}),
	);

	const ready = new Promise<{ url: string; simulatorUrl: string }>(
		(resolveReady, reject) => {
			const output: string[] = [];
			const timer = setTimeout(
				() =>
					reject(
						new Error(
							`The gateway process printed no ready line within ${START_TIMEOUT_MS} ms. Its output:\n${output.join("\n")}`,
						),
					),
				START_TIMEOUT_MS,
			);
			const onLine = (line: string, stream: "stdout" | "stderr") => {
				output.push(line);
				options.onLine?.(line, stream);
				if (stream !== "stdout" || !line.startsWith('{"gatewayReady"')) return;
				clearTimeout(timer);
				resolveReady(JSON.parse(line).gatewayReady);
			};
			readLines(child, "stdout", onLine);
			readLines(child, "stderr", onLine);
			child.once("exit", (code, signal) => {
				clearTimeout(timer);
				reject(
					new Error(
						`The gateway process exited before it was ready (code ${code}, signal ${signal}). Its output:\n${output.join("\n")}`,
					),
				);
			});
		},
	);

	let started: { url: string; simulatorUrl: string };
	try {
		started = await ready;
	} catch (error) {
		child.kill("SIGKILL");
		await exited;
		throw error;
	}
	return {
		baseUrl: started.url,
		apiUrl: `${started.url}/v1`,
		simulatorUrl: started.simulatorUrl,
		exited,
		kill: async () => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill("SIGKILL");
			}
			await exited;
		},
		stop: async () => {
			if (child.exitCode !== null || child.signalCode !== null) return;
			child.kill("SIGTERM");
			const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
			await exited;
			clearTimeout(timer);
		},
	};
}

function readLines(
	child: ChildProcess,
	stream: "stdout" | "stderr",
	onLine: (line: string, stream: "stdout" | "stderr") => void,
): void {
	let pending = "";
	const source = child[stream];
	source?.setEncoding("utf8");
	source?.on("data", (chunk: string) => {
		pending += chunk;
		const lines = pending.split("\n");
		pending = lines.pop() ?? "";
		for (const line of lines) onLine(line, stream);
	});
	source?.on("end", () => {
		if (pending) onLine(pending, stream);
		pending = "";
	});
}
