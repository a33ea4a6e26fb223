/**
 * Child processes of the benchmark (provider simulator, our gateway, the
 * Portkey gateway) and their resource figures from /proc: CPU time in clock
 * ticks (utime + stime, every thread) and peak resident memory (VmHWM),
 * which writing `5` to /proc/<pid>/clear_refs resets between scenarios.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
	readdirSync,
	readFileSync,
	readlinkSync,
	writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(
	dirname(fileURLToPath(import.meta.url)),
	"../..",
);
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** Clock ticks per second of /proc/<pid>/stat on Linux (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Child {
	name: string;
	pid: number;
	/** Tail of the child's standard output and error. */
	output(): string;
	/** Sends SIGTERM, then SIGKILL after 10 s; resolves once it exited. */
	stop(): Promise<void>;
}

interface SpawnOptions {
	name: string;
	args: string[];
	env?: Record<string, string | undefined>;
	ipc?: boolean;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
	for (const child of running) child.kill("SIGKILL");
});

function spawnChild(options: SpawnOptions): {
	child: ChildProcess;
	handle: Child;
} {
	const child = spawn(process.execPath, options.args, {
		cwd: REPO_ROOT,
		env: { ...process.env, ...options.env },
		stdio: options.ipc
			? ["ignore", "pipe", "pipe", "ipc"]
			: ["ignore", "pipe", "pipe"],
	});
	running.add(child);
	child.once("exit", () => running.delete(child));
	let output = "";
	const collect = (chunk: Buffer) => {
		output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
	};
	child.stdout?.on("data", collect);
	child.stderr?.on("data", collect);
	const handle: Child = {
		name: options.name,
		pid: child.pid ?? 0,
		output: () => output,
		stop: () => stopChild(child),
	};
	return { child, handle };
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

/** Resolves with the first match of `pattern` in the child's output. */
function waitForOutput(
	child: ChildProcess,
	handle: Child,
	pattern: RegExp,
): Promise<RegExpExecArray> {
	return new Promise((resolveMatch, reject) => {
		const timer = setTimeout(() => {
			cleanup();
			reject(
				new Error(
					`${handle.name} did not start within ${START_TIMEOUT_MS / 1000} s. Its output:\n${handle.output()}`,
				),
			);
		}, START_TIMEOUT_MS);
		const onData = () => {
			const match = pattern.exec(handle.output());
			if (!match) return;
			cleanup();
			resolveMatch(match);
		};
		const onExit = (code: number | null) => {
			cleanup();
			reject(
				new Error(
					`${handle.name} exited with code ${code} before it started. Its output:\n${handle.output()}`,
				),
			);
		};
		const cleanup = () => {
			clearTimeout(timer);
			child.stdout?.off("data", onData);
			child.stderr?.off("data", onData);
			child.off("exit", onExit);
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		child.once("exit", onExit);
	});
}

export interface ServiceChild extends Child {
	/** Base URL on 127.0.0.1. */
	url: string;
}

/** Starts the provider simulator's command line on a free loopback port. */
export async function startSimulatorChild(): Promise<ServiceChild> {
	const { child, handle } = spawnChild({
		name: "provider simulator",
		args: ["infra/local/simulator/main.ts", "--port", "0"],
	});
	const match = await waitForOutput(
		child,
		handle,
		/listening on (http:\/\/127\.0\.0\.1:\d+)/,
	);
	return { ...handle, url: match[1] as string };
}

export interface GatewayChildOptions {
	env: Record<string, string>;
	/** Extra Node options, such as `--cpu-prof`. */
	nodeOptions?: string[];
}

/**
 * Starts our gateway (the local API Gateway runtime in front of the deployed
 * handler modules) through `infra/local/serve.ts`, which reports its URL
 * over IPC and exits when the IPC channel closes.
 */
export async function startGatewayChild(
	options: GatewayChildOptions,
): Promise<ServiceChild> {
	const { child, handle } = spawnChild({
		name: "gateway",
		args: [...(options.nodeOptions ?? []), "infra/local/serve.ts"],
		env: { ...options.env, PORT: "0" },
		ipc: true,
	});
	const url = await new Promise<string>((resolveReady, reject) => {
		const timer = setTimeout(
			() =>
				reject(
					new Error(
						`The gateway did not become ready within ${START_TIMEOUT_MS / 1000} s. Its output:\n${handle.output()}`,
					),
				),
			START_TIMEOUT_MS,
		);
		child.on("message", (message: { type?: string; url?: string }) => {
			if (message.type !== "ready" || !message.url) return;
			clearTimeout(timer);
			resolveReady(message.url);
		});
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(
				new Error(
					`The gateway exited with code ${code} before it was ready. Its output:\n${handle.output()}`,
				),
			);
		});
	});
	return { ...handle, url };
}

/** Entry point of the Portkey gateway package (its `bin`). */
export const PORTKEY_ENTRY = resolve(
	REPO_ROOT,
	"node_modules/@portkey-ai/gateway/build/start-server.js",
);

/**
 * Starts the Portkey open-source gateway headless on `port`, with the
 * loopback guard and the streaming fix preloaded, and waits until `GET /`
 * responds.
 */
export async function startPortkeyChild(port: number): Promise<ServiceChild> {
	const { child, handle } = spawnChild({
		name: "Portkey gateway",
		args: [
			"--import",
			resolve(REPO_ROOT, "test/bench/network-guard.ts"),
			"--import",
			resolve(REPO_ROOT, "test/bench/portkey-stream-fix.ts"),
			PORTKEY_ENTRY,
			`--port=${port}`,
			"--headless",
		],
		env: { NODE_ENV: "production" },
	});
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + START_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) break;
		try {
			const response = await fetch(url, { signal: AbortSignal.timeout(500) });
			await response.text();
			if (response.ok) return { ...handle, url };
		} catch {
			// Not listening yet.
		}
		await new Promise((wake) => setTimeout(wake, 100));
	}
	await handle.stop();
	throw new Error(
		`The Portkey gateway did not respond on ${url}. Its output:\n${handle.output()}`,
	);
}

/** CPU time a process has used so far (all threads, user and system), in ms. */
export function cpuTimeMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	// Fields after the command name, which is in parentheses and may hold spaces.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	const userTicks = Number(fields[11]);
	const systemTicks = Number(fields[12]);
	return ((userTicks + systemTicks) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const match = /VmHWM:\s+(\d+) kB/.exec(status);
	return match ? Number(match[1]) / 1024 : Number.NaN;
}

/**
 * Resets the peak resident set size, so the next {@link peakRssMiB} covers
 * only what follows. Returns false where the kernel does not allow it.
 */
export function resetPeakRss(pid: number): boolean {
	try {
		writeFileSync(`/proc/${pid}/clear_refs`, "5");
		return true;
	} catch {
		return false;
	}
}

/** Process id of the process that listens on `port`, found through /proc. */
export function pidListeningOn(port: number): number | undefined {
	const inode = listeningSocketInode(port);
	if (inode === undefined) return undefined;
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		let descriptors: string[];
		try {
			descriptors = readdirSync(`/proc/${entry}/fd`);
		} catch {
			continue;
		}
		for (const descriptor of descriptors) {
			try {
				if (
					readlinkSync(`/proc/${entry}/fd/${descriptor}`) ===
					`socket:[${inode}]`
				) {
					return Number(entry);
				}
			} catch {
				// The descriptor closed while we read.
			}
		}
	}
	return undefined;
}

function listeningSocketInode(port: number): string | undefined {
	const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
	for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
		const lines = readFileSync(file, "utf8").split("\n").slice(1);
		for (const line of lines) {
			const columns = line.trim().split(/\s+/);
			// Column 1 is local_address:port, 3 the state (0A = LISTEN), 9 the inode.
			if (columns[1]?.endsWith(`:${hexPort}`) && columns[3] === "0A") {
				return columns[9];
			}
		}
	}
	return undefined;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
	return new Promise((resolvePort, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolvePort(port));
		});
	});
}
