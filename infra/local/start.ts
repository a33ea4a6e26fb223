/**
 * `npm start`: the whole gateway on this machine. It starts DynamoDB Local
 * with its data under `.data/dynamodb/` and creates the table. Then it starts
 * the provider simulator on a free loopback port and the server on
 * 127.0.0.1:8787 (PORT overrides). The first run also seeds a demo workspace
 * with $10.00 of credit and one API key.
 *
 * Environment: PORT, CELL_ID (default `global`), CATALOG_FILE (default
 * `infra/catalog/local.json`), and DATA_DIR (default `.data`; tests point it
 * at a temporary directory). While it runs, `.data/runtime.json` tells the
 * admin CLI where DynamoDB Local listens. SIGINT or SIGTERM stops everything
 * cleanly and keeps the data; a second signal exits at once.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { createApiKey } from "../../functions/store/api-keys.ts";
import { createStore, type Store } from "../../functions/store/client.ts";
import { createSignInLink } from "../../functions/store/portal-sessions.ts";
import {
	createWorkspace,
	getWorkspace,
} from "../../functions/store/workspaces.ts";
import { formatUsd } from "../../shared/money.ts";
import {
	RUNTIME_FILE as DEFAULT_RUNTIME_FILE,
	LOCAL_TABLE_NAME,
	type RuntimeInfo,
	readRuntimeInfo,
	removeRuntimeInfo,
	writeRuntimeInfo,
} from "../admin/runtime-info.ts";
import { getCell } from "../cells.ts";
import { createTable } from "./create-table.ts";
import {
	type DynamoDBLocal,
	endpointResponds,
	LOCAL_DATA_DIR,
	localDynamoDBClient,
	startDynamoDBLocal,
} from "./dynamodb-local.ts";
import { LOCAL_CATALOG_FILE, localHandlerEnvironment } from "./environment.ts";
import { type LocalServer, siteBuilt, startServer } from "./server.ts";
import { type Simulator, startSimulator } from "./simulator/server.ts";

/** User id of the demo workspace's owner, who signs in to the portal. */
const DEMO_OWNER_ID = "demo-owner";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DATA_DIR = process.env.DATA_DIR
	? resolve(process.env.DATA_DIR)
	: resolve(REPO_ROOT, ".data");
const DB_PATH = process.env.DATA_DIR
	? resolve(DATA_DIR, "dynamodb")
	: LOCAL_DATA_DIR;
const DEMO_MARKER = resolve(DATA_DIR, "demo.json");
const RUNTIME_FILE = process.env.DATA_DIR
	? resolve(DATA_DIR, "runtime.json")
	: DEFAULT_RUNTIME_FILE;
const DEMO_CREDIT_MICRO_USD = 10_000_000;
const DEMO_SCOPES = ["chat.completions", "models.read", "usage.read"] as const;
const RECONCILE_INTERVAL_MS = 30_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

const logger = new Logger({ serviceName: "gag-local" });

interface Running {
	dynamodb?: DynamoDBLocal;
	simulator?: Simulator;
	server?: LocalServer;
	reconcileTimer?: NodeJS.Timeout;
	runtimeFileWritten?: boolean;
}

interface DemoMarker {
	workspaceId: string;
	cell: string;
	keyId: string;
	createdAt: string;
}

const running: Running = {};
let stopping = false;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => {
		if (stopping) {
			console.log("Stopping immediately.");
			process.exit(130);
		}
		void stop(0);
	});
}

try {
	await start();
} catch (error) {
	console.error(`Local start failed: ${(error as Error).message}`);
	await stop(1);
}

async function start(): Promise<void> {
	const cell = getCell(process.env.CELL_ID ?? "global").id;
	const port = Number(process.env.PORT ?? 8787);
	const catalogFile = process.env.CATALOG_FILE ?? LOCAL_CATALOG_FILE;

	const other = readRuntimeInfo(RUNTIME_FILE);
	if (other && (await endpointResponds(other.dynamodbEndpoint))) {
		throw new Error(
			`Another local runtime is using ${DATA_DIR} (port ${other.port}). Stop it first, or set DATA_DIR to another folder.`,
		);
	}
	running.dynamodb = await startDynamoDBLocal({ dbPath: DB_PATH });
	const client = localDynamoDBClient(running.dynamodb.endpoint);
	try {
		await createTable(client, LOCAL_TABLE_NAME);
	} finally {
		client.destroy();
	}

	running.simulator = await startSimulator({ port: 0 });
	Object.assign(
		process.env,
		localHandlerEnvironment({
			tableName: LOCAL_TABLE_NAME,
			dynamodbEndpoint: running.dynamodb.endpoint,
			simulatorUrl: running.simulator.url,
			cell,
			catalogFile,
		}),
	);

	const store = createStore({
		tableName: LOCAL_TABLE_NAME,
		endpoint: running.dynamodb.endpoint,
	});
	const demo = await seedDemo(store, cell);
	if (!siteBuilt()) buildSite();

	running.server = await startServer({ port, cell, logger }).catch(
		(error: NodeJS.ErrnoException) => {
			if (error.code === "EADDRINUSE") {
				throw new Error(
					`Port ${port} on 127.0.0.1 is in use. Stop the other process or set PORT to a free port.`,
				);
			}
			throw error;
		},
	);

	const info: RuntimeInfo & { simulatorUrl: string; cell: string } = {
		dynamodbEndpoint: running.dynamodb.endpoint,
		tableName: LOCAL_TABLE_NAME,
		port: running.server.port,
		simulatorUrl: running.simulator.url,
		cell,
	};
	writeRuntimeInfo(info, RUNTIME_FILE);
	running.runtimeFileWritten = true;

	running.reconcileTimer = setInterval(reconcile, RECONCILE_INTERVAL_MS);
	const signInLink = await createSignInLink(store, {
		workspaceId: demo.workspaceId,
		userId: DEMO_OWNER_ID,
		role: "owner",
		operator: true,
		baseUrl: running.server.url,
		cell,
	});
	printBanner(
		running.server.url,
		running.simulator.url,
		cell,
		demo,
		signInLink,
	);
}

/**
 * Builds the portal into site/dist on the first start, so the two README
 * commands are all a fresh checkout needs. Later starts reuse the build;
 * `npm run build:site` rebuilds it after a change.
 */
function buildSite(): void {
	console.log("Building the portal into site/dist (first start only)...");
	execFileSync(
		process.execPath,
		[
			resolve(REPO_ROOT, "node_modules/astro/bin/astro.mjs"),
			"build",
			"--root",
			"site",
			"--silent",
		],
		{
			cwd: REPO_ROOT,
			stdio: "inherit",
			env: { ...process.env, ASTRO_TELEMETRY_DISABLED: "1" },
		},
	);
}

type SeedResult =
	| { kind: "created"; workspaceId: string; key: string }
	| { kind: "existing"; workspaceId: string };

/**
 * Creates the demo workspace and key once. The marker under `.data/` keeps
 * the workspace id, so later starts do not print a key again. When the
 * marker's workspace is gone (the data was deleted), it seeds anew.
 */
async function seedDemo(store: Store, cell: string): Promise<SeedResult> {
	const marker = readDemoMarker();
	if (marker && marker.cell === cell) {
		if (await getWorkspace(store, marker.workspaceId)) {
			return { kind: "existing", workspaceId: marker.workspaceId };
		}
	}

	const workspace = await createWorkspace(store, {
		name: "Demo workspace",
		cell,
		creditMicroUsd: DEMO_CREDIT_MICRO_USD,
		actor: "local-start",
	});
	const created = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell,
		name: "Demo key",
		scopes: [...DEMO_SCOPES],
		actor: "local-start",
	});
	const newMarker: DemoMarker = {
		workspaceId: workspace.workspaceId,
		cell,
		keyId: created.item.keyId,
		createdAt: new Date().toISOString(),
	};
	mkdirSync(dirname(DEMO_MARKER), { recursive: true });
	writeFileSync(DEMO_MARKER, `${JSON.stringify(newMarker, null, 2)}\n`);
	return {
		kind: "created",
		workspaceId: workspace.workspaceId,
		key: created.key,
	};
}

function readDemoMarker(): DemoMarker | undefined {
	if (!existsSync(DEMO_MARKER)) return undefined;
	try {
		return JSON.parse(readFileSync(DEMO_MARKER, "utf8")) as DemoMarker;
	} catch {
		return undefined;
	}
}

async function reconcile(): Promise<void> {
	try {
		const { handler } = await import("../../functions/reconciler/handler.ts");
		await handler({}, {});
	} catch (error) {
		logger.error("Reservation reconciler run failed", {
			error: error as Error,
		});
	}
}

function printBanner(
	serverUrl: string,
	simulatorUrl: string,
	cell: string,
	demo: SeedResult,
	signInLink: string,
): void {
	const apiUrl = `${serverUrl}/v1`;
	const lines = [
		"",
		`Global AI Gateway is running locally (cell ${cell}).`,
		`  API base URL:       ${apiUrl}`,
		`  Portal:             ${serverUrl}/`,
		`  Provider simulator: ${simulatorUrl}`,
		"",
	];
	if (demo.kind === "created") {
		lines.push(
			`Seeded demo workspace ${demo.workspaceId} with ${formatUsd(DEMO_CREDIT_MICRO_USD)} of credit.`,
			"Its API key is shown only this once:",
			"",
			`  ${demo.key}`,
			"",
			"Try it:",
			"",
			`  curl ${apiUrl}/chat/completions \\`,
			`    -H "Authorization: Bearer ${demo.key}" \\`,
			`    -H "Content-Type: application/json" \\`,
			`    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
			"",
		);
	} else {
		lines.push(`Demo workspace ${demo.workspaceId} already seeded.`);
	}
	lines.push(
		"Sign in to the portal as the demo workspace's owner (one-time link, valid 15 minutes):",
		`  ${signInLink}`,
		"",
		"Create another key with:",
		`  npm run admin -- key create --workspace ${demo.workspaceId} --name my-key --scopes ${DEMO_SCOPES.join(",")}`,
		"",
		"Press Ctrl-C to stop.",
	);
	console.log(lines.join("\n"));
}

async function stop(exitCode: number): Promise<void> {
	stopping = true;
	clearInterval(running.reconcileTimer);
	const { server, simulator, dynamodb } = running;
	const steps: [string, () => Promise<void> | undefined][] = [
		["server", () => server?.stop(SHUTDOWN_TIMEOUT_MS)],
		["simulator", () => simulator?.stop()],
		["DynamoDB Local", () => dynamodb?.stop()],
	];
	for (const [name, stopStep] of steps) {
		try {
			await stopStep();
		} catch (error) {
			console.error(`Stopping the ${name} failed: ${(error as Error).message}`);
		}
	}
	if (running.runtimeFileWritten) removeRuntimeInfo(RUNTIME_FILE);
	if (exitCode === 0)
		console.log(`Stopped. Local data is kept in ${DATA_DIR}.`);
	process.exit(exitCode);
}
