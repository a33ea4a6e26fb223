/**
 * The shape of an admin CLI command and the helpers that read its options.
 * A bad option raises `UsageError`, which the CLI turns into exit code 2.
 */
import type { ParseArgsOptionsConfig } from "node:util";
import type { Store } from "../../functions/store/client.ts";
import { parseUsd } from "../../shared/money.ts";

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
	store: Store;
	/** Audit actor of every change: `admin-cli:<os user>`. */
	actor: string;
	/** Cell of the store: the deployed cell, or the local runtime's. */
	cell: string;
}

export interface CommandResult {
	/** Printed with `--json`. */
	json: unknown;
	/** Printed otherwise. */
	text: string;
	/**
	 * Process exit code after printing, such as 1 when a check found
	 * problems. Defaults to 0.
	 */
	exitCode?: number;
}

export interface Command {
	/** One or two words: `reconcile`, `workspace create`. */
	name: string;
	/** Options after the name, as shown in usage: `--workspace W`. */
	usage: string;
	summary: string;
	options: ParseArgsOptionsConfig;
	run(context: CommandContext, values: OptionValues): Promise<CommandResult>;
}

/** Invalid command-line input; the CLI prints usage and exits with 2. */
export class UsageError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "UsageError";
	}
}

/** Reads a required string option. @throws UsageError when it is missing. */
export function requiredOption(values: OptionValues, name: string): string {
	const value = values[name];
	if (typeof value !== "string" || value.trim() === "") {
		throw new UsageError(`Missing --${name}.`);
	}
	return value.trim();
}

/** Reads an optional string option. */
export function optionalOption(
	values: OptionValues,
	name: string,
): string | undefined {
	const value = values[name];
	return typeof value === "string" && value.trim() !== ""
		? value.trim()
		: undefined;
}

/**
 * Reads a USD option such as `--credit-usd 10.50` as micro-USD.
 *
 * @throws UsageError when the value is not a non-negative amount with at
 *   most six decimal places.
 */
export function usdOption(value: string, name: string): number {
	try {
		return parseUsd(value);
	} catch {
		throw new UsageError(
			`Invalid --${name} "${value}": use a USD amount from 0 to 999999999 with at most 6 decimal places, such as 10 or 0.25.`,
		);
	}
}

/** Splits a comma-separated option into trimmed, non-empty parts. */
export function listOption(value: string): string[] {
	return value
		.split(",")
		.map((part) => part.trim())
		.filter((part) => part.length > 0);
}
