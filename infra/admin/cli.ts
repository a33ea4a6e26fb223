/**
 * Admin CLI for platform operators: workspaces, keys, credit, purchase
 * requests, expired reservations, the ledger check and provider status. Run it as `npm run admin -- <command> [options] [--json]`.
 *
 * It works on local data by default (see `openAdminStore`). Exit codes: 0 on
 * success, 1 when the command failed, 2 for invalid arguments.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { GatewayError } from "../../shared/errors.ts";
import { CELLS } from "../cells.ts";
import { type Command, type OptionValues, UsageError } from "./command.ts";
import { creditTopUp } from "./commands/credit.ts";
import { keyCreate, keyList, keyRevoke } from "./commands/key.ts";
import { memberAdd, portalLink } from "./commands/member.ts";
import { providerList, providerStatus } from "./commands/provider.ts";
import { purchaseApprove, purchaseList } from "./commands/purchase.ts";
import { ledgerCheck, reconcile } from "./commands/reconcile.ts";
import { workspaceCreate, workspaceShow } from "./commands/workspace.ts";
import { openAdminStore } from "./store-target.ts";

const COMMANDS: readonly Command[] = [
	workspaceCreate,
	workspaceShow,
	keyCreate,
	keyList,
	keyRevoke,
	creditTopUp,
	purchaseList,
	purchaseApprove,
	reconcile,
	ledgerCheck,
	providerList,
	providerStatus,
	memberAdd,
	portalLink,
];

const PROGRAM = "npm run admin --";

/** Runs one command line and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
	let argv = args;
	let deployedCell: string | undefined;
	if (argv[0] === "--cell") {
		deployedCell = argv[1];
		if (!deployedCell || deployedCell.startsWith("-")) {
			return usageFailure("Missing the cell id after --cell.", undefined);
		}
		if (!CELLS.some((cell) => cell.id === deployedCell)) {
			return usageFailure(
				`Unknown cell "${deployedCell}". Known cells: ${CELLS.map((cell) => cell.id).join(", ")}.`,
				undefined,
			);
		}
		argv = argv.slice(2);
	}
	if (argv.length === 0) {
		return usageFailure("Missing the command.", undefined);
	}
	if (argv[0] === "help" || argv[0] === "--help") {
		process.stdout.write(`${usage()}\n`);
		return 0;
	}
	const command = COMMANDS.find((candidate) =>
		candidate.name.split(" ").every((word, index) => argv[index] === word),
	);
	if (!command) {
		const group = COMMANDS.filter((candidate) =>
			candidate.name.startsWith(`${argv[0]} `),
		).map((candidate) => candidate.name);
		return usageFailure(
			group.length > 0 && argv.length === 1
				? `"${argv[0]}" needs a subcommand: ${group.join(", ")}.`
				: `Unknown command "${argv.slice(0, 2).join(" ")}".`,
			undefined,
		);
	}

	let values: OptionValues;
	try {
		values = parseArgs({
			args: joinNegativeValues(
				argv.slice(command.name.split(" ").length),
				command,
			),
			options: {
				...command.options,
				json: { type: "boolean" },
				help: { type: "boolean" },
			},
			strict: true,
			allowPositionals: false,
		}).values as OptionValues;
	} catch (error) {
		return usageFailure((error as Error).message, command);
	}
	if (values.help) {
		process.stdout.write(`${commandUsage(command)}\n  ${command.summary}\n`);
		return 0;
	}

	return runCommand(command, values, deployedCell);
}

async function runCommand(
	command: Command,
	values: OptionValues,
	deployedCell: string | undefined,
): Promise<number> {
	let opened: Awaited<ReturnType<typeof openAdminStore>> | undefined;
	try {
		opened = await openAdminStore(deployedCell ? { deployedCell } : {});
		const result = await command.run(
			{ store: opened.store, actor: adminActor(), cell: opened.cell },
			values,
		);
		process.stdout.write(
			values.json
				? `${JSON.stringify(result.json, null, 2)}\n`
				: `${result.text}\n`,
		);
		return result.exitCode ?? 0;
	} catch (error) {
		if (error instanceof UsageError) {
			return usageFailure(error.message, command);
		}
		if (error instanceof GatewayError && error.status === 400) {
			return usageFailure(error.message, command);
		}
		const message = error instanceof Error ? error.message : String(error);
		process.stderr.write(`admin: ${command.name} failed: ${message}\n`);
		return 1;
	} finally {
		await opened?.close();
	}
}

/**
 * Joins `--usd -3` into `--usd=-3`, because parseArgs reads a value that
 * starts with a dash as another option. The command then rejects the
 * negative amount with its own message.
 */
function joinNegativeValues(args: string[], command: Command): string[] {
	const joined: string[] = [];
	for (let index = 0; index < args.length; index++) {
		const arg = args[index] as string;
		const next = args[index + 1];
		const option = command.options[arg.replace(/^--/, "")];
		if (
			arg.startsWith("--") &&
			option?.type === "string" &&
			next !== undefined &&
			/^-\d/.test(next)
		) {
			joined.push(`${arg}=${next}`);
			index++;
		} else {
			joined.push(arg);
		}
	}
	return joined;
}

function usageFailure(message: string, command: Command | undefined): number {
	const help = command ? `Usage: ${commandUsage(command)}` : usage();
	process.stderr.write(`admin: ${message}\n${help}\n`);
	return 2;
}

function commandUsage(command: Command): string {
	return `${PROGRAM} ${command.name} ${command.usage} [--json]`;
}

function usage(): string {
	const lines = COMMANDS.map(
		(command) => `  ${command.name} ${command.usage}\n      ${command.summary}`,
	);
	return [
		`Usage: ${PROGRAM} [--cell <id>] <command> [options] [--json]`,
		"",
		"Commands:",
		...lines,
		"",
		"Works on local data in .data/ unless DYNAMODB_ENDPOINT and TABLE_NAME are set.",
		"--cell <id> works on that deployed cell instead, with your AWS credentials.",
		"Amounts are USD with at most 6 decimal places; --json prints machine-readable output.",
	].join("\n");
}

function adminActor(): string {
	try {
		return `admin-cli:${userInfo().username}`;
	} catch {
		return "admin-cli";
	}
}

if (import.meta.main) {
	process.exitCode = await main(process.argv.slice(2));
}
