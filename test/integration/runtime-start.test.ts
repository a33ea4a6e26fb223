import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";

const START_ENTRY = resolve(import.meta.dirname, "../../infra/local/start.ts");
const dataDir = mkdtempSync(join(tmpdir(), "gag-start-"));
const children = new Set<ChildProcess>();

afterAll(() => {
	for (const child of children) child.kill("SIGKILL");
	rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
	child: ChildProcess;
	output: () => string;
	exited: Promise<number | null>;
}

async function startLocal(): Promise<Started> {
	const child = spawn(process.execPath, [START_ENTRY], {
		env: {
			...process.env,
			DATA_DIR: dataDir,
			PORT: "0",
			POWERTOOLS_LOG_LEVEL: "WARN",
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	children.add(child);
	let output = "";
	child.stdout?.on("data", (chunk) => {
		output += chunk;
	});
	child.stderr?.on("data", (chunk) => {
		output += chunk;
	});
	const exited = new Promise<number | null>((resolveExit) =>
		child.once("exit", (code) => {
			children.delete(child);
			resolveExit(code);
		}),
	);

	const deadline = Date.now() + 90_000;
	while (!output.includes("Press Ctrl-C to stop.")) {
		if (child.exitCode !== null || Date.now() > deadline) {
			throw new Error(`npm start did not become ready:\n${output}`);
		}
		await new Promise((resolveWait) => setTimeout(resolveWait, 200));
	}
	return { child, output: () => output, exited };
}

describe("npm start", () => {
	it("seeds once and stops cleanly", { timeout: 240_000 }, async () => {
		const first = await startLocal();
		const banner = first.output();
		const apiUrl = /API base URL:\s+(\S+)/.exec(banner)?.[1] ?? "";
		const key = /(sk-gag-global-\S+)/.exec(banner)?.[1] ?? "";
		const runtimeFile = join(dataDir, "runtime.json");
		const runtimeInfo = JSON.parse(readFileSync(runtimeFile, "utf8"));
		const client = new OpenAI({ baseURL: apiUrl, apiKey: key, maxRetries: 0 });

		const completion = await client.chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "hello start" }],
		});
		first.child.kill("SIGINT");
		const firstExit = await first.exited;

		expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
		expect(banner).toContain("with $10.00 of credit");
		expect(banner).toContain(`curl ${apiUrl}/chat/completions`);
		expect(runtimeInfo.tableName).toBe("gag-local");
		expect(runtimeInfo.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		expect(runtimeInfo.simulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		expect(completion.choices[0]?.message.content).toBe("Echo: hello start");
		expect(firstExit).toBe(0);
		expect(existsSync(runtimeFile)).toBe(false);

		const second = await startLocal();
		second.child.kill("SIGTERM");
		const secondExit = await second.exited;

		expect(second.output()).toContain("already seeded");
		expect(second.output()).not.toMatch(/sk-gag-global-/);
		expect(secondExit).toBe(0);
	});
});
