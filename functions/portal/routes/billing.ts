/**
 * Billing routes: receipts, and purchase and onboarding requests. Receipts
 * show the customer charge; provider cost and gross margin only reach
 * operators.
 */
import { invalidRequest, notFound } from "../../../shared/errors.ts";
import { loadCatalog } from "../../catalog/load.ts";
import type { PurchaseRequestItem, ReceiptItem } from "../../store/items.ts";
import {
	createPurchaseRequest,
	listPurchaseRequests,
} from "../../store/purchases.ts";
import { getReceipt, listReceipts } from "../../store/receipts.ts";
import { requirePermission } from "../auth.ts";
import type { RouteContext } from "../context.ts";
import {
	json,
	type PortalResponse,
	readJsonBody,
	requireString,
} from "../http.ts";
import { optionalUsd } from "./keys.ts";
import { requireWorkspace } from "./workspace.ts";

/** Receipts shown per page of the portal. */
const RECEIPT_LIMIT = 200;
const MAX_PLAN_MODELS = 20;

export type ReceiptView = Omit<ReceiptItem, "pk" | "sk" | "entity">;

export function toReceiptView(
	item: ReceiptItem,
	operator: boolean,
): ReceiptView {
	const {
		pk: _pk,
		sk: _sk,
		entity: _entity,
		providerCostMicroUsd,
		grossMarginMicroUsd,
		...view
	} = item;
	return operator
		? {
				...view,
				...(providerCostMicroUsd === undefined ? {} : { providerCostMicroUsd }),
				...(grossMarginMicroUsd === undefined ? {} : { grossMarginMicroUsd }),
			}
		: view;
}

export async function listReceiptsRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "billing:read");
	const items = await listReceipts(context.store, context.caller.workspaceId, {
		limit: RECEIPT_LIMIT,
	});
	return json({
		receipts: items.map((item) => toReceiptView(item, context.caller.operator)),
		operator: context.caller.operator,
	});
}

export async function getReceiptRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "billing:read");
	const receiptId = context.params.id ?? "";
	const item = await getReceipt(
		context.store,
		context.caller.workspaceId,
		receiptId,
	);
	if (!item) {
		throw notFound(
			`Receipt ${receiptId} was not found in this workspace. List the receipts to find its id.`,
			"receipt_not_found",
			"id",
		);
	}
	return json({ receipt: toReceiptView(item, context.caller.operator) });
}

export type PurchaseView = Omit<
	PurchaseRequestItem,
	"pk" | "sk" | "entity" | "gsi1pk" | "gsi1sk"
>;

function toPurchaseView(item: PurchaseRequestItem): PurchaseView {
	const {
		pk: _pk,
		sk: _sk,
		entity: _e,
		gsi1pk: _g,
		gsi1sk: _s,
		...view
	} = item;
	return view;
}

export async function listPurchasesRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "billing:read");
	const items = await listPurchaseRequests(
		context.store,
		context.caller.workspaceId,
	);
	return json({ purchases: items.map(toPurchaseView) });
}

function readModels(body: Record<string, unknown>): string[] {
	const models = body.models;
	if (
		!Array.isArray(models) ||
		models.length === 0 ||
		!models.every((model) => typeof model === "string" && model !== "")
	) {
		throw invalidRequest(
			'models is missing: send the list of model ids the plan covers, such as ["gpt-4o-mini"].',
			"models",
		);
	}
	if (models.length > MAX_PLAN_MODELS) {
		throw invalidRequest(
			`models lists ${models.length} models: a plan covers at most ${MAX_PLAN_MODELS}.`,
			"models",
		);
	}
	return [...new Set(models as string[])];
}

/**
 * Stores a purchase and onboarding request: the selected models, expected
 * monthly spend and contact. Operators approve it with the admin CLI.
 */
export async function createPurchaseRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "purchases:write");
	const body = readJsonBody(context.request);
	const workspace = await requireWorkspace(context);
	const models = readModels(body);
	const catalog = await loadCatalog(context.store, workspace.cell);
	const known = new Set(catalog.map((route) => route.model));
	const unknown = models.filter((model) => !known.has(model));
	if (unknown.length > 0) {
		throw invalidRequest(
			`Unknown models: ${unknown.join(", ")}. Pick models from the marketplace of cell ${workspace.cell}.`,
			"models",
		);
	}
	const spendMicroUsd = optionalUsd(body, "expectedMonthlySpendUsd");
	if (spendMicroUsd === undefined || spendMicroUsd === 0) {
		throw invalidRequest(
			'expectedMonthlySpendUsd is missing: send the expected monthly spend in USD, such as "500".',
			"expectedMonthlySpendUsd",
		);
	}
	const contact = (body.contact ?? {}) as Record<string, unknown>;
	const company =
		typeof contact.company === "string" ? contact.company.trim() : "";
	const notes = typeof body.notes === "string" ? body.notes.trim() : "";
	const note = [company ? `Company: ${company}.` : "", notes]
		.filter(Boolean)
		.join(" ");

	const item = await createPurchaseRequest(context.store, {
		workspaceId: workspace.workspaceId,
		items: [
			{
				description: `Monthly Service Credit for ${models.join(", ")}`,
				amountMicroUsd: spendMicroUsd,
			},
		],
		contact: {
			name: requireString(contact, "name", 100),
			email: requireString(contact, "email", 200),
		},
		...(note ? { note } : {}),
		actor: context.caller.userId,
	});
	return json({ purchase: toPurchaseView(item) }, 201);
}
