/**
 * A workspace's credit: the balance item and top-ups. A top-up adds to the
 * available balance and writes a ledger entry, a purchase receipt and an
 * audit event in one transaction, so the ledger always sums to the balance.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { invalidRequest, notFound } from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";
import { keys } from "../../shared/table.ts";
import { readSellerOfRecord } from "../portal/seller.ts";
import { auditEventPut } from "./audit.ts";
import type { Store } from "./client.ts";
import type {
	AuditEventItem,
	BalanceItem,
	LedgerEntryItem,
	ReceiptItem,
} from "./items.ts";
import { ledgerEntryPut } from "./ledger.ts";
import {
	MAX_AMOUNT_MICRO_USD,
	requirePositiveMicroUsd,
} from "./money-input.ts";
import { purchaseReceiptPut } from "./receipts.ts";
import {
	conditionFailedAt,
	type TransactItem,
	transactWrite,
} from "./transact.ts";

/**
 * Largest available balance a top-up may produce: $1,000,000,000. Together
 * with the reserved part it stays far below 2^53 micro-USD, so JavaScript
 * numbers hold every balance exactly.
 */
export const MAX_BALANCE_MICRO_USD = MAX_AMOUNT_MICRO_USD;

/** Gets a workspace's balance, or `undefined` when the workspace does not exist. */
export async function getBalance(
	store: Store,
	workspaceId: string,
): Promise<BalanceItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.balance(workspaceId),
			ConsistentRead: true,
		}),
	);
	return result.Item as BalanceItem | undefined;
}

export interface TopUpInput {
	workspaceId: string;
	/** Credit to add, in micro-USD; a positive integer. */
	amountMicroUsd: number;
	actor: string;
	note?: string;
	/** Name printed on the receipt; defaults to the configured seller of record. */
	sellerOfRecord?: string;
}

export interface TopUpResult {
	ledgerEntry: LedgerEntryItem;
	receipt: ReceiptItem;
	auditEvent: AuditEventItem;
}

/**
 * Adds credit to a workspace: balance, ledger entry, purchase receipt and
 * audit event in one transaction.
 *
 * @throws GatewayError 400 for an invalid amount or one that would lift the
 *   balance above $1,000,000,000, 404 when the workspace does not exist.
 */
export async function topUpCredit(
	store: Store,
	input: TopUpInput,
): Promise<TopUpResult> {
	const records = topUpTransactItems(store, input, new Date().toISOString());

	try {
		await transactWrite(store, records.items);
	} catch (error) {
		if (!conditionFailedAt(error, 0)) throw error;
		const balance = await getBalance(store, input.workspaceId);
		if (!balance) {
			throw notFound(
				`Workspace ${input.workspaceId} was not found. Check the workspace id.`,
				"workspace_not_found",
				"workspaceId",
			);
		}
		throw invalidRequest(
			`Top-up of ${formatUsd(input.amountMicroUsd)} would lift the available balance of workspace ${input.workspaceId} above ${formatUsd(MAX_BALANCE_MICRO_USD)}. Top up a smaller amount.`,
			"amountMicroUsd",
			"balance_limit_exceeded",
		);
	}

	return {
		ledgerEntry: records.ledgerEntry,
		receipt: records.receipt,
		auditEvent: records.auditEvent,
	};
}

/**
 * Builds the transaction items of a top-up, for callers that add their own
 * items (approving a purchase request). The balance update comes first.
 */
export function topUpTransactItems(
	store: Store,
	input: TopUpInput,
	now: string,
): TopUpResult & { items: TransactItem[] } {
	const amountMicroUsd = requirePositiveMicroUsd(
		input.amountMicroUsd,
		"amountMicroUsd",
	);
	const records = creditRecords(store, {
		...input,
		amountMicroUsd,
		createdAt: now,
	});
	const audit = auditEventPut(store, {
		workspaceId: input.workspaceId,
		action: "credit.toppedUp",
		actor: input.actor,
		details: {
			amountMicroUsd,
			ledgerEntryId: records.ledgerEntry.entryId,
			receiptId: records.receipt.receiptId,
			...(input.note ? { note: input.note } : {}),
		},
		createdAt: now,
	});
	const balanceUpdate: TransactItem = {
		Update: {
			TableName: store.tableName,
			Key: keys.balance(input.workspaceId),
			UpdateExpression: "ADD availableMicroUsd :amount SET updatedAt = :now",
			ConditionExpression:
				"attribute_exists(pk) AND availableMicroUsd <= :ceiling",
			ExpressionAttributeValues: {
				":amount": amountMicroUsd,
				":now": now,
				":ceiling": MAX_BALANCE_MICRO_USD - amountMicroUsd,
			},
		},
	};

	return {
		ledgerEntry: records.ledgerEntry,
		receipt: records.receipt,
		auditEvent: audit.item,
		items: [balanceUpdate, ...records.items, audit.put],
	};
}

/**
 * Builds the ledger entry and purchase receipt of credit that enters a
 * workspace. The caller changes the balance in the same transaction.
 */
export function creditRecords(
	store: Store,
	input: {
		workspaceId: string;
		amountMicroUsd: number;
		note?: string;
		sellerOfRecord?: string;
		createdAt: string;
	},
): {
	ledgerEntry: LedgerEntryItem;
	receipt: ReceiptItem;
	items: TransactItem[];
} {
	const receipt = purchaseReceiptPut(store, {
		workspaceId: input.workspaceId,
		amountMicroUsd: input.amountMicroUsd,
		sellerOfRecord: input.sellerOfRecord ?? readSellerOfRecord().name,
		description: `Service Credit top-up of ${formatUsd(input.amountMicroUsd)}`,
		createdAt: input.createdAt,
	});
	const ledgerEntry = ledgerEntryPut(store, {
		workspaceId: input.workspaceId,
		kind: "topup",
		amountMicroUsd: input.amountMicroUsd,
		receiptId: receipt.item.receiptId,
		...(input.note ? { note: input.note } : {}),
		createdAt: input.createdAt,
	});
	return {
		ledgerEntry: ledgerEntry.item,
		receipt: receipt.item,
		items: [ledgerEntry.put, receipt.put],
	};
}
