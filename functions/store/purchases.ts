/**
 * Purchase requests: a customer requests credit from the portal, and an
 * operator approves the request once it is paid, optionally topping up the
 * workspace in the same transaction. Requests are listed per workspace, or
 * per status through gsi1 (`PURCHASES#<status>`) for operators.
 */
import { conflict, invalidRequest, notFound } from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import { auditEventPut } from "./audit.ts";
import type { Store } from "./client.ts";
import { topUpTransactItems } from "./credit.ts";
import { newPurchaseId } from "./ids.ts";
import type {
	PurchaseContact,
	PurchaseLine,
	PurchaseRequestItem,
	PurchaseStatus,
} from "./items.ts";
import {
	MAX_AMOUNT_MICRO_USD,
	requirePositiveMicroUsd,
} from "./money-input.ts";
import { queryItems } from "./query.ts";
import { conditionFailedAt, putNewItem, transactWrite } from "./transact.ts";
import { getWorkspace, workspaceNotFound } from "./workspaces.ts";

export const PURCHASE_STATUSES: readonly PurchaseStatus[] = [
	"open",
	"approved",
];

const MAX_LINES = 20;
const MAX_TEXT_LENGTH = 500;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface CreatePurchaseInput {
	workspaceId: string;
	items: PurchaseLine[];
	contact: PurchaseContact;
	note?: string;
	actor: string;
}

/**
 * Stores an open purchase request and its audit event.
 *
 * @throws GatewayError 400 for invalid lines or contact, 404 for an unknown
 *   workspace.
 */
export async function createPurchaseRequest(
	store: Store,
	input: CreatePurchaseInput,
): Promise<PurchaseRequestItem> {
	const workspace = await getWorkspace(store, input.workspaceId);
	if (!workspace) throw workspaceNotFound(input.workspaceId);
	const items = checkLines(input.items);
	const totalMicroUsd = items.reduce(
		(sum, line) => sum + line.amountMicroUsd,
		0,
	);
	if (totalMicroUsd > MAX_AMOUNT_MICRO_USD) {
		throw invalidRequest(
			`Invalid items: the total ${formatUsd(totalMicroUsd)} is above the ${formatUsd(MAX_AMOUNT_MICRO_USD)} limit of one purchase.`,
			"items",
		);
	}
	const contact = checkContact(input.contact);
	const note = checkText(input.note, "note");
	const now = new Date().toISOString();
	const purchaseId = newPurchaseId();

	const item: PurchaseRequestItem = {
		...keys.purchaseRequest(workspace.workspaceId, purchaseId),
		...keys.purchaseByStatus("open", purchaseId),
		entity: "purchaseRequest",
		purchaseId,
		workspaceId: workspace.workspaceId,
		status: "open",
		items,
		totalMicroUsd,
		contact,
		...(note ? { note } : {}),
		requestedBy: input.actor,
		createdAt: now,
	};
	const audit = auditEventPut(store, {
		workspaceId: workspace.workspaceId,
		action: "purchase.requested",
		actor: input.actor,
		details: { purchaseId, totalMicroUsd, lines: items.length },
		createdAt: now,
	});
	await transactWrite(store, [putNewItem(store, item), audit.put]);
	return item;
}

/** Lists a workspace's purchase requests, newest first. */
export function listPurchaseRequests(
	store: Store,
	workspaceId: string,
): Promise<PurchaseRequestItem[]> {
	return queryItems<PurchaseRequestItem>(store, {
		KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
		ExpressionAttributeValues: {
			":pk": keys.workspace(workspaceId).pk,
			":prefix": SORT_PREFIX.purchase,
		},
		ScanIndexForward: false,
	});
}

/** Lists every workspace's purchase requests in one status, oldest first. */
export async function listPurchaseRequestsByStatus(
	store: Store,
	status: PurchaseStatus,
): Promise<PurchaseRequestItem[]> {
	if (!PURCHASE_STATUSES.includes(status)) {
		throw invalidRequest(
			`Invalid status "${status}". Known statuses: ${PURCHASE_STATUSES.join(", ")}.`,
			"status",
		);
	}
	return queryItems<PurchaseRequestItem>(store, {
		IndexName: "gsi1",
		KeyConditionExpression: "gsi1pk = :pk",
		ExpressionAttributeValues: {
			":pk": keys.purchaseByStatus(status, "").gsi1pk,
		},
	});
}

/** Finds a purchase request by id in any status, or `undefined`. */
export async function getPurchaseRequest(
	store: Store,
	purchaseId: string,
): Promise<PurchaseRequestItem | undefined> {
	for (const status of PURCHASE_STATUSES) {
		const index = keys.purchaseByStatus(status, purchaseId);
		const [item] = await queryItems<PurchaseRequestItem>(
			store,
			{
				IndexName: "gsi1",
				KeyConditionExpression: "gsi1pk = :pk AND gsi1sk = :sk",
				ExpressionAttributeValues: {
					":pk": index.gsi1pk,
					":sk": index.gsi1sk,
				},
			},
			1,
		);
		if (item) return item;
	}
	return undefined;
}

export interface ApprovePurchaseInput {
	purchaseId: string;
	actor: string;
	/** Credit to add to the workspace on approval, in micro-USD. */
	creditMicroUsd?: number;
	/** Name printed on the receipt; defaults to the configured seller of record. */
	sellerOfRecord?: string;
}

/**
 * Approves an open purchase request. With `creditMicroUsd` the workspace is
 * topped up (balance, ledger entry, purchase receipt) in the same transaction
 * as the status change and the audit event.
 *
 * @throws GatewayError 404 for an unknown request, 409 when it is no longer
 *   open, 400 for an invalid amount.
 */
export async function approvePurchaseRequest(
	store: Store,
	input: ApprovePurchaseInput,
): Promise<PurchaseRequestItem> {
	const current = await getPurchaseRequest(store, input.purchaseId);
	if (!current) {
		throw notFound(
			`Purchase request ${input.purchaseId} was not found. List purchase requests to find its id.`,
			"purchase_not_found",
			"purchaseId",
		);
	}
	if (current.status !== "open") throw notOpen(current);
	const now = new Date().toISOString();
	const topUp =
		input.creditMicroUsd === undefined
			? undefined
			: topUpTransactItems(
					store,
					{
						workspaceId: current.workspaceId,
						amountMicroUsd: requirePositiveMicroUsd(
							input.creditMicroUsd,
							"creditMicroUsd",
						),
						actor: input.actor,
						note: `Purchase request ${current.purchaseId}`,
						sellerOfRecord: input.sellerOfRecord,
					},
					now,
				);
	const approved: PurchaseRequestItem = {
		...current,
		...keys.purchaseByStatus("approved", current.purchaseId),
		status: "approved",
		approvedAt: now,
		approvedBy: input.actor,
		...(topUp
			? {
					creditedMicroUsd: topUp.ledgerEntry.amountMicroUsd,
					receiptId: topUp.receipt.receiptId,
				}
			: {}),
	};
	const audit = auditEventPut(store, {
		workspaceId: current.workspaceId,
		action: "purchase.approved",
		actor: input.actor,
		details: {
			purchaseId: current.purchaseId,
			creditedMicroUsd: approved.creditedMicroUsd ?? 0,
			...(topUp ? { receiptId: topUp.receipt.receiptId } : {}),
		},
		createdAt: now,
	});

	try {
		await transactWrite(store, [
			{
				Put: {
					TableName: store.tableName,
					Item: approved,
					ConditionExpression: "#status = :open",
					ExpressionAttributeNames: { "#status": "status" },
					ExpressionAttributeValues: { ":open": "open" },
				},
			},
			...(topUp?.items ?? []),
			audit.put,
		]);
	} catch (error) {
		if (conditionFailedAt(error, 0)) {
			throw notOpen({ ...current, status: "approved" });
		}
		if (conditionFailedAt(error, 1)) {
			throw invalidRequest(
				`Approving ${current.purchaseId} with ${formatUsd(input.creditMicroUsd ?? 0)} would lift the balance of workspace ${current.workspaceId} above the limit. Approve with a smaller amount.`,
				"creditMicroUsd",
				"balance_limit_exceeded",
			);
		}
		throw error;
	}
	return approved;
}

function notOpen(item: PurchaseRequestItem) {
	return conflict(
		`Purchase request ${item.purchaseId} is ${item.status}, not open, so it cannot be approved again.`,
		"purchase_not_open",
	);
}

function checkLines(lines: PurchaseLine[]): PurchaseLine[] {
	if (!Array.isArray(lines) || lines.length === 0 || lines.length > MAX_LINES) {
		throw invalidRequest(
			`Invalid items: give 1 to ${MAX_LINES} lines, each with a description and an amount.`,
			"items",
		);
	}
	return lines.map((line, index) => ({
		description:
			checkText(line?.description, `items[${index}].description`) ??
			missing(`items[${index}].description`),
		amountMicroUsd: requirePositiveMicroUsd(
			line?.amountMicroUsd,
			`items[${index}].amountMicroUsd`,
		),
	}));
}

function checkContact(contact: PurchaseContact): PurchaseContact {
	const email = typeof contact?.email === "string" ? contact.email.trim() : "";
	if (!EMAIL_PATTERN.test(email)) {
		throw invalidRequest(
			`Invalid contact.email "${String(contact?.email)}": give an email address where the seller can send the invoice.`,
			"contact.email",
		);
	}
	const name = checkText(contact.name, "contact.name");
	return { email, ...(name ? { name } : {}) };
}

function checkText(
	value: string | undefined,
	field: string,
): string | undefined {
	if (value === undefined) return undefined;
	const text = typeof value === "string" ? value.trim() : "";
	if (text.length > MAX_TEXT_LENGTH) {
		throw invalidRequest(
			`Invalid ${field}: ${text.length} characters is more than the ${MAX_TEXT_LENGTH} allowed.`,
			field,
		);
	}
	return text.length > 0 ? text : undefined;
}

function missing(field: string): never {
	throw invalidRequest(`Missing ${field}: give a short description.`, field);
}
