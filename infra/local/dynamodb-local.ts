/**
 * Runs the official DynamoDB Local emulator (the jar shipped in the npm
 * package `amplify-dynamodb-simulator`) as a child JVM on a free loopback
 * port. Tests run it in memory; local runs keep data under `.data/dynamodb/`.
 *
 * The JVM starts through `DynamoDBLocalLoopback.java`, which binds the server
 * to 127.0.0.1 (the stock launcher listens on every interface and has no host
 * option) and exits when its standard input closes. Together with the kill on
 * `stop()` and on parent exit, no JVM outlives the process that started it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const EMULATOR_DIR = join(
	REPO_ROOT,
	"node_modules/amplify-dynamodb-simulator/emulator",
);
const LAUNCHER = join(REPO_ROOT, "infra/local/DynamoDBLocalLoopback.java");

/** Directory of the on-disk database for local runs. */
export const LOCAL_DATA_DIR = join(
	process.env.DATA_DIR
		? resolve(process.env.DATA_DIR)
		: join(REPO_ROOT, ".data"),
	"dynamodb",
);

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 2_000;

export interface DynamoDBLocalOptions {
	/** Directory of the database files; absent runs in memory. */
	dbPath?: string;
	/** Port to listen on; absent picks a free one. */
	port?: number;
}

export interface DynamoDBLocal {
	/** `http://127.0.0.1:<port>`. */
	endpoint: string;
	port: number;
	/** Stops the JVM and waits for it to exit. Safe to call twice. */
	stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and waits until it responds to HTTP requests.
 *
 * @throws Error when `java` or the emulator jar is missing (naming what to
 *   install), or when the JVM exits or does not respond within 60 s (with the
 *   tail of its output).
 */
export async function startDynamoDBLocal(
	options: DynamoDBLocalOptions = {},
): Promise<DynamoDBLocal> {
	assertJavaInstalled();
	if (!existsSync(join(EMULATOR_DIR, "DynamoDBLocal.jar"))) {
		throw new Error(
			`DynamoDB Local was not found at ${EMULATOR_DIR}. Run npm ci to install the amplify-dynamodb-simulator package that ships it.`,
		);
	}
	if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });

	let lastError: unknown;
	const attempts = options.port ? 1 : PORT_ATTEMPTS;
	for (let attempt = 0; attempt < attempts; attempt++) {
		const port = options.port ?? (await findFreePort());
		try {
			return await launch(port, options.dbPath);
		} catch (error) {
			// Another process may take a free port between the probe and the
			// JVM's bind, so a fresh port gets another try.
			lastError = error;
		}
	}
	throw lastError;
}

/** Creates a low-level client for a DynamoDB Local endpoint with static local credentials. */
export function localDynamoDBClient(endpoint: string): DynamoDBClient {
	return new DynamoDBClient({
		endpoint,
		region: "us-east-1",
		credentials: { accessKeyId: "local", secretAccessKey: "local" },
		maxAttempts: 3,
	});
}

/** Returns true when a server at the endpoint responds to an HTTP request. */
export async function endpointResponds(
	endpoint: string,
	timeoutMs = 1_000,
): Promise<boolean> {
	try {
		await fetch(endpoint, {
			method: "POST",
			signal: AbortSignal.timeout(timeoutMs),
		});
		return true;
	} catch {
		return false;
	}
}

function assertJavaInstalled(): void {
	const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
	if (probe.error) {
		throw new Error(
			"Java was not found on PATH; DynamoDB Local needs Java 17. On Debian or Ubuntu install it with: apt-get update && apt-get install -y openjdk-17-jre-headless",
		);
	}
}

function findFreePort(): Promise<number> {
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

async function launch(port: number, dbPath?: string): Promise<DynamoDBLocal> {
	const args = [
		`-Djava.library.path=${join(EMULATOR_DIR, "DynamoDBLocal_lib")}`,
		"-cp",
		join(EMULATOR_DIR, "DynamoDBLocal.jar"),
		LAUNCHER,
		"-port",
		String(port),
		"-sharedDb",
		"-disableTelemetry",
		...(dbPath ? ["-dbPath", dbPath] : ["-inMemory"]),
	];
	// Its own process group keeps a terminal's Ctrl-C from reaching the JVM,
	// so in-flight requests can still settle while the runtime shuts down.
	const child = spawn("java", args, {
		detached: true,
		stdio: ["pipe", "pipe", "pipe"],
		env: { ...process.env, DDB_LOCAL_TELEMETRY: "0" },
	});
	let output = "";
	const collect = (chunk: Buffer) => {
		output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
	};
	child.stdout?.on("data", collect);
	child.stderr?.on("data", collect);

	const killOnExit = () => child.kill("SIGKILL");
	process.once("exit", killOnExit);

	const endpoint = `http://127.0.0.1:${port}`;
	try {
		await waitUntilResponding(child, endpoint, () => output);
	} catch (error) {
		await stopChild(child);
		process.removeListener("exit", killOnExit);
		throw error;
	}

	// The pipes stay open for the parent watch, but must not keep the event
	// loop alive on their own.
	child.stdout?.removeListener("data", collect);
	child.stderr?.removeListener("data", collect);
	child.stdout?.resume();
	child.stderr?.resume();
	unrefChild(child);

	let stopped: Promise<void> | undefined;
	return {
		endpoint,
		port,
		stop: () => {
			stopped ??= stopChild(child).then(() => {
				process.removeListener("exit", killOnExit);
			});
			return stopped;
		},
	};
}

async function waitUntilResponding(
	child: ChildProcess,
	endpoint: string,
	output: () => string,
): Promise<void> {
	const deadline = Date.now() + START_TIMEOUT_MS;
	let exited = false;
	child.once("exit", () => {
		exited = true;
	});
	while (Date.now() < deadline) {
		if (exited) {
			throw new Error(
				`DynamoDB Local exited before it responded on ${endpoint}. Its output:\n${output()}`,
			);
		}
		if (await endpointResponds(endpoint, 500)) return;
		await new Promise((wake) => setTimeout(wake, 100));
	}
	throw new Error(
		`DynamoDB Local did not respond on ${endpoint} within ${START_TIMEOUT_MS / 1000} s. Its output:\n${output()}`,
	);
}

function unrefChild(child: ChildProcess): void {
	child.unref();
	for (const stream of [child.stdin, child.stdout, child.stderr]) {
		(stream as unknown as { unref?: () => void } | null)?.unref?.();
	}
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		return Promise.resolve();
	}
	return new Promise((resolveStop) => {
		const forceKill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
		child.once("exit", () => {
			clearTimeout(forceKill);
			resolveStop();
		});
		child.stdin?.end();
		child.kill("SIGTERM");
	});
}
