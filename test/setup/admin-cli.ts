/**
 * Runs the admin CLI (`infra/admin/cli.ts`) as a child process against a
 * table in the run's DynamoDB Local, as an operator would run it.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";

const CLI = join(import.meta.dirname, "../../infra/admin/cli.ts");

export interface CliResult {
	/** Exit code, 0 on success. */
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the admin CLI with `args` on `tableName` and returns its output. */
export function runAdminCli(
	tableName: string,
	...args: string[]
): Promise<CliResult> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[CLI, ...args],
			{
				env: {
					...process.env,
					DYNAMODB_ENDPOINT: inject("dynamodbEndpoint"),
					TABLE_NAME: tableName,
				},
			},
			(error, stdout, stderr) => {
				const code = error ? Number(error.code ?? 1) : 0;
				resolve({ code, stdout, stderr });
			},
		);
	});
}
