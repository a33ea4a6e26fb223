/**
 * Runs only the local HTTP server, configured by the environment that
 * `localHandlerEnvironment` builds (TABLE_NAME, DYNAMODB_ENDPOINT, CELL_ID,
 * CATALOG_FILE, SIMULATOR_URL) and PORT (0 picks a free port).
 *
 * Started with an IPC channel, as `test/setup/runtime.ts` does, it sends
 * `{ type: "ready", url, port }` once it listens and shuts down when the
 * channel closes, so it never outlives the process that started it.
 */
import { startServer } from "./server.ts";

const server = await startServer({
	port: Number(process.env.PORT ?? 8787),
});

let stopping = false;
async function shutdown(): Promise<void> {
	if (stopping) return;
	stopping = true;
	await server.stop(5_000);
	process.exit(0);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => void shutdown());
}

if (process.send) {
	process.once("disconnect", () => void shutdown());
	process.send({ type: "ready", url: server.url, port: server.port });
} else {
	console.log(`Local gateway listening on ${server.url}`);
}
