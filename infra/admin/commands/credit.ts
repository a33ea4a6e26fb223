/** `credit topup`. */
import { getBalance, topUpCredit } from "../../../functions/store/credit.ts";
import { formatUsd } from "../../../shared/money.ts";
import {
	type Command,
	optionalOption,
	requiredOption,
	usdOption,
} from "../command.ts";
import { publicView } from "../format.ts";

export const creditTopUp: Command = {
	name: "credit topup",
	usage: "--workspace W --usd X [--note TEXT]",
	summary: "Add credit to a workspace, with a ledger entry and a receipt.",
	options: {
		workspace: { type: "string" },
		usd: { type: "string" },
		note: { type: "string" },
	},
	async run({ store, actor }, values) {
		const workspaceId = requiredOption(values, "workspace");
		const amountMicroUsd = usdOption(requiredOption(values, "usd"), "usd");
		const note = optionalOption(values, "note");

		const result = await topUpCredit(store, {
			workspaceId,
			amountMicroUsd,
			actor,
			...(note ? { note } : {}),
		});
		const balance = await getBalance(store, workspaceId);

		const available = balance?.availableMicroUsd ?? 0;
		return {
			json: {
				ledgerEntry: publicView(result.ledgerEntry),
				receipt: publicView(result.receipt),
				balance: {
					availableMicroUsd: available,
					reservedMicroUsd: balance?.reservedMicroUsd ?? 0,
				},
			},
			text: `Added ${formatUsd(amountMicroUsd)} to ${workspaceId} (receipt ${result.receipt.receiptId}). Available: ${formatUsd(available)}.`,
		};
	},
};
