/**
 * Lambda bundle sizes and the chat handler's import time. The bundles use
 * the esbuild settings of `GatewayFunction` (infra/constructs/
 * gateway-function.ts): ESM, platform node, target node24, main fields
 * module then main, the createRequire banner, minified, with `@aws-sdk/*`
 * left to the runtime. Sizes exclude the source map.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { REPO_ROOT } from "./processes.ts";

export const HANDLERS = ["chat", "api", "portal", "reconciler"] as const;

const ESM_REQUIRE_BANNER =
	"import { createRequire as __gagCreateRequire } from 'node:module'; const require = __gagCreateRequire(import.meta.url);";
/** Inside node_modules so the bundles resolve `@aws-sdk/*` from the repository. */
const OUT_DIR = resolve(REPO_ROOT, "node_modules/.cache/gag-bench");

export interface BundleSize {
	handler: string;
	/** Minified bundle without `@aws-sdk/*`, as deployed. */
	bytes: number;
	/** The same with `@aws-sdk/*` bundled in, for comparison. */
	bytesWithSdk: number;
}

async function bundle(handler: string, withSdk: boolean): Promise<string> {
	const outfile = join(
		OUT_DIR,
		withSdk ? `${handler}-with-sdk` : handler,
		"index.mjs",
	);
	await build({
		entryPoints: [resolve(REPO_ROOT, `functions/${handler}/handler.ts`)],
		bundle: true,
		outfile,
		platform: "node",
		format: "esm",
		target: "node24",
		mainFields: ["module", "main"],
		banner: { js: ESM_REQUIRE_BANNER },
		minify: true,
		sourcemap: true,
		sourcesContent: false,
		external: withSdk ? [] : ["@aws-sdk/*"],
		logLevel: "error",
	});
	return outfile;
}

/** Builds every handler twice (with and without the SDK) and returns sizes. */
export async function measureBundles(): Promise<BundleSize[]> {
	rmSync(OUT_DIR, { recursive: true, force: true });
	const sizes: BundleSize[] = [];
	for (const handler of HANDLERS) {
		const deployed = await bundle(handler, false);
		const withSdk = await bundle(handler, true);
		sizes.push({
			handler,
			bytes: statSync(deployed).size,
			bytesWithSdk: statSync(withSdk).size,
		});
	}
	return sizes;
}

export interface ImportTiming {
	module: string;
	/** Median time of the dynamic import inside the process, in ms. */
	importMs: number;
	/** Median wall time of the whole `node` process, spawn to exit, in ms. */
	processMs: number;
	runs: number;
}

/**
 * The `awslambda` global that the Lambda runtime installs; the chat handler
 * calls `awslambda.streamifyResponse` when its module loads.
 */
const IMPORT_SCRIPT = `
globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
const started = performance.now();
await import(process.argv[1]);
console.log(JSON.stringify({ importMs: performance.now() - started }));
`;

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function timeImport(label: string, file: string, runs: number): ImportTiming {
	const importTimes: number[] = [];
	const processTimes: number[] = [];
	for (let run = 0; run < runs; run++) {
		const started = performance.now();
		const result = spawnSync(
			process.execPath,
			["--input-type=module", "-e", IMPORT_SCRIPT, pathToFileURL(file).href],
			{
				cwd: REPO_ROOT,
				encoding: "utf8",
				env: {
					...process.env,
					TABLE_NAME: "gag-bench",
					CELL_ID: "global",
					AWS_REGION: "us-east-1",
					AWS_EC2_METADATA_DISABLED: "true",
					POWERTOOLS_METRICS_DISABLED: "true",
				},
			},
		);
		processTimes.push(performance.now() - started);
		if (result.status !== 0) {
			throw new Error(
				`Importing ${label} failed with status ${result.status}: ${result.stderr.slice(-500)}`,
			);
		}
		importTimes.push(
			(JSON.parse(result.stdout.trim()) as { importMs: number }).importMs,
		);
	}
	return {
		module: label,
		importMs: median(importTimes),
		processMs: median(processTimes),
		runs,
	};
}

/**
 * Times importing the chat handler, bundled as deployed and from source
 * (Node's type stripping), against an empty module. Run after
 * {@link measureBundles}, which writes the bundle.
 */
export function measureImportTimes(runs = 7): ImportTiming[] {
	mkdirSync(OUT_DIR, { recursive: true });
	const empty = join(OUT_DIR, "empty.mjs");
	writeFileSync(empty, "export {};\n");
	return [
		timeImport("empty module", empty, runs),
		timeImport("chat bundle", join(OUT_DIR, "chat", "index.mjs"), runs),
		timeImport(
			"chat source (type stripping)",
			resolve(REPO_ROOT, "functions/chat/handler.ts"),
			runs,
		),
	];
}
