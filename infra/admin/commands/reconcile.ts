/** `reconcile` and `ledger check`. */
import { errorSummary } from "../../../functions/observability/logger.ts";
import { checkLedger } from "../../../functions/store/ledger-check.ts";
import { reconcileReservations } from "../../../functions/store/reconcile.ts";
import { formatUsd } from "../../../shared/money.ts";
import { type Command, optionalOption, UsageError } from "../command.ts";
import { table } from "../format.ts";

export const reconcile: Command = {
	name: "reconcile",
	usage: "[--now ISO]",
	summary:
		"Release reservations that expired before --now (default: the current time), as the scheduled reconciler does. Exits 1 when a release failed.",
	options: { now: { type: "string" } },
	async run({ store }, values) {
		const now = nowOption(optionalOption(values, "now"));

		const result = await reconcileReservations(store, { now });

		const failures = result.failures.map((failure) => ({
			requestId: failure.requestId,
			workspaceId: failure.workspaceId,
			...errorSummary(failure.error),
		}));
		const lines = [
			`Released ${result.released} of ${result.examined} expired reservations (${result.alreadyDone} already settled or released, ${result.failed} failed).`,
			`Open reservations past expiry before the run: ${result.pastExpiryBefore}.`,
			...failures.map(
				(failure) =>
					`  ${failure.requestId} in ${failure.workspaceId}: ${failure.errorMessage}`,
			),
		];
		return {
			json: {
				examined: result.examined,
				released: result.released,
				alreadyDone: result.alreadyDone,
				failed: result.failed,
				pastExpiryBefore: result.pastExpiryBefore,
				failures,
			},
			text: lines.join("\n"),
			exitCode: result.failed > 0 ? 1 : 0,
		};
	},
};

export const ledgerCheck: Command = {
	name: "ledger check",
	usage: "[--workspace W]",
	summary:
		"Check that balances, ledger, usage, receipts, reservations and key spend agree, for one workspace or all (a table scan). Exits 1 when a problem is found.",
	options: { workspace: { type: "string" } },
	async run({ store }, values) {
		const workspaceId = optionalOption(values, "workspace");

		const result = await checkLedger(store, workspaceId ? { workspaceId } : {});

		const broken = result.workspaces.filter(
			(report) => report.problems.length > 0,
		);
		const rows = result.workspaces.map((report) => [
			report.workspaceId,
			formatUsd(report.availableMicroUsd),
			formatUsd(report.reservedMicroUsd),
			formatUsd(report.ledgerSumMicroUsd),
			report.problems.length === 0 ? "ok" : `${report.problems.length}`,
		]);
		const problemLines = broken.flatMap((report) => [
			"",
			`${report.workspaceId}:`,
			...report.problems.map((problem) => `  - ${problem}`),
		]);
		const checked = `Checked ${result.workspaces.length} ${result.workspaces.length === 1 ? "workspace" : "workspaces"}`;
		const summary = result.ok
			? `${checked}: every ledger invariant holds.`
			: `${checked}: ${broken.length} with problems.`;
		return {
			json: result,
			text: [
				table(
					["WORKSPACE", "AVAILABLE", "RESERVED", "LEDGER SUM", "PROBLEMS"],
					rows,
				),
				...problemLines,
				"",
				summary,
			].join("\n"),
			exitCode: result.ok ? 0 : 1,
		};
	},
};

/**
 * Reads `--now` as a time no later than the current one.
 *
 * @throws UsageError for an invalid time or one in the future.
 */
function nowOption(value: string | undefined): Date | undefined {
	if (value === undefined) return undefined;
	const now = new Date(value);
	if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(now.getTime())) {
		throw new UsageError(
			`Invalid --now "${value}": use an ISO 8601 time such as 2026-01-31T00:00:00Z.`,
		);
	}
	if (now.getTime() > Date.now()) {
		throw new UsageError(
			`Invalid --now "${value}": it is in the future, so reservations of running requests could be released. Use a time at or before the current time.`,
		);
	}
	return now;
}
