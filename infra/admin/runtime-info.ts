/**
 * The runtime file `.data/runtime.json`, which records the endpoint of the
 * local runtime's DynamoDB Local for other local tools such as the admin
 * CLI. The runtime writes it after start and removes it on stop.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Path of the runtime file. */
export const RUNTIME_FILE = join(
	process.env.DATA_DIR
		? resolve(process.env.DATA_DIR)
		: join(REPO_ROOT, ".data"),
	"runtime.json",
);

/** Table name of local runs (every local cell shares it). */
export const LOCAL_TABLE_NAME = "gag-local";

export interface RuntimeInfo {
	/** `http://127.0.0.1:<port>` of the runtime's DynamoDB Local. */
	dynamodbEndpoint: string;
	tableName: string;
	/** Port of the local gateway's HTTP server. */
	port: number;
	/** Cell the local runtime serves. */
	cell?: string;
}

/** Writes the runtime file; the local runtime calls it once it is ready. */
export function writeRuntimeInfo(info: RuntimeInfo, file = RUNTIME_FILE): void {
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes the runtime file; the local runtime calls it on stop. */
export function removeRuntimeInfo(file = RUNTIME_FILE): void {
	rmSync(file, { force: true });
}

/**
 * Reads the runtime file, or returns `undefined` when it is missing or does
 * not contain a loopback endpoint and a table name.
 */
export function readRuntimeInfo(file = RUNTIME_FILE): RuntimeInfo | undefined {
	let data: Partial<RuntimeInfo>;
	try {
		data = JSON.parse(readFileSync(file, "utf8")) as Partial<RuntimeInfo>;
	} catch {
		return undefined;
	}
	const endpoint = data.dynamodbEndpoint;
	if (
		typeof endpoint !== "string" ||
		!/^http:\/\/127\.0\.0\.1:\d+\/?$/.test(endpoint) ||
		typeof data.tableName !== "string" ||
		data.tableName.length < 3
	) {
		return undefined;
	}
	return {
		dynamodbEndpoint: endpoint,
		tableName: data.tableName,
		port: typeof data.port === "number" ? data.port : 0,
	};
}
