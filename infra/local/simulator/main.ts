/**
 * Runs the provider simulator from the command line:
 * `npm run simulator -- [--port 4010] [--ttft-ms 200] [--tps 50]`.
 * The environment variables SIMULATOR_PORT, SIMULATOR_TTFT_MS and
 * SIMULATOR_TPS set the same values. Stops on SIGINT or SIGTERM.
 */
import { parseArgs } from "node:util";
import { startSimulator } from "./server.ts";

const { values } = parseArgs({
	options: {
		port: { type: "string", default: process.env.SIMULATOR_PORT ?? "4010" },
		"ttft-ms": { type: "string", default: process.env.SIMULATOR_TTFT_MS },
		tps: { type: "string", default: process.env.SIMULATOR_TPS },
		help: { type: "boolean", default: false },
	},
});

if (values.help) {
	console.log(`Usage: npm run simulator -- [options]

  --port N      port on 127.0.0.1 to listen on (default 4010; 0 picks a free one)
  --ttft-ms N   delay before the first token of every answer, in ms (default 0)
  --tps N       tokens per second of streamed answers (default 0: no delay)`);
	process.exit(0);
}

const simulator = await startSimulator({
	port: parseCount("--port", values.port),
	firstTokenLatencyMs: parseCount("--ttft-ms", values["ttft-ms"]),
	tokensPerSecond: parseCount("--tps", values.tps),
});
console.log(`Provider simulator listening on ${simulator.url}`);
console.log(`  OpenAI:    ${simulator.url}/p/<provider>/openai/v1`);
console.log(`  Anthropic: ${simulator.url}/p/<provider>/anthropic`);
console.log(`  Bedrock:   ${simulator.url}/p/<provider>/bedrock`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		simulator.stop().then(() => process.exit(0));
	});
}

function parseCount(option: string, value: string | undefined) {
	if (value === undefined || value === "") return undefined;
	const count = Number(value);
	if (!Number.isSafeInteger(count) || count < 0) {
		console.error(`${option} must be a non-negative integer, got "${value}".`);
		process.exit(2);
	}
	return count;
}
