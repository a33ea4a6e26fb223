/** `purchase list` and `purchase approve`. */
import type { PurchaseStatus } from "../../../functions/store/items.ts";
import {
	approvePurchaseRequest,
	listPurchaseRequestsByStatus,
	PURCHASE_STATUSES,
} from "../../../functions/store/purchases.ts";
import { formatUsd } from "../../../shared/money.ts";
import {
	type Command,
	optionalOption,
	requiredOption,
	UsageError,
	usdOption,
} from "../command.ts";
import { publicView, table } from "../format.ts";

export const purchaseList: Command = {
	name: "purchase list",
	usage: "[--status open|approved]",
	summary: "List purchase requests of every workspace, oldest first.",
	options: { status: { type: "string" } },
	async run({ store }, values) {
		const status = optionalOption(values, "status");
		if (status && !(PURCHASE_STATUSES as readonly string[]).includes(status)) {
			throw new UsageError(
				`Invalid --status "${status}": use ${PURCHASE_STATUSES.join(" or ")}.`,
			);
		}
		const statuses = status ? [status as PurchaseStatus] : PURCHASE_STATUSES;

		const purchases = (
			await Promise.all(
				statuses.map((one) => listPurchaseRequestsByStatus(store, one)),
			)
		)
			.flat()
			.sort((a, b) => a.createdAt.localeCompare(b.createdAt));

		const rows = purchases.map((purchase) => [
			purchase.purchaseId,
			purchase.workspaceId,
			purchase.status,
			formatUsd(purchase.totalMicroUsd),
			purchase.contact.email,
			purchase.createdAt,
		]);
		return {
			json: purchases.map((purchase) => publicView(purchase)),
			text:
				purchases.length === 0
					? "No purchase requests."
					: table(
							[
								"PURCHASE ID",
								"WORKSPACE",
								"STATUS",
								"TOTAL",
								"CONTACT",
								"CREATED",
							],
							rows,
						),
		};
	},
};

export const purchaseApprove: Command = {
	name: "purchase approve",
	usage: "--purchase P [--credit-usd X]",
	summary:
		"Approve an open purchase request; with --credit-usd, top up its workspace in the same transaction.",
	options: {
		purchase: { type: "string" },
		"credit-usd": { type: "string" },
	},
	async run({ store, actor }, values) {
		const purchaseId = requiredOption(values, "purchase");
		const credit = optionalOption(values, "credit-usd");
		const creditMicroUsd = credit ? usdOption(credit, "credit-usd") : undefined;

		const approved = await approvePurchaseRequest(store, {
			purchaseId,
			actor,
			...(creditMicroUsd === undefined ? {} : { creditMicroUsd }),
		});

		const credited =
			approved.creditedMicroUsd === undefined
				? "without a top-up"
				: `and added ${formatUsd(approved.creditedMicroUsd)} to ${approved.workspaceId} (receipt ${approved.receiptId})`;
		return {
			json: publicView(approved),
			text: `Approved ${approved.purchaseId} ${credited}.`,
		};
	},
};
