/**
 * Buffered API routes beside chat: health, models, key, credits, usage,
 * receipts and request audit records. Every read is scoped to the calling
 * key's workspace, so another workspace's ids get a 404.
 */
import type {
	APIGatewayProxyEvent,
	APIGatewayProxyResult,
	Context,
} from "aws-lambda";
import { getCell } from "../../infra/cells.ts";
import type { KeyScope } from "../../shared/api-key.ts";
import {
	invalidRequest,
	notFound,
	toGatewayError,
} from "../../shared/errors.ts";
import { microUsdToUsd } from "../../shared/money.ts";
import { planRoutes } from "../../shared/routing.ts";
import { type AuthenticatedKey, authenticate } from "../auth/authenticate.ts";
import { loadCatalog } from "../catalog/load.ts";
import { header } from "../http/event.ts";
import { errorSummary, loggerFor } from "../observability/logger.ts";
import { getApiKeyByHash } from "../store/api-keys.ts";
import { getAuditEvent } from "../store/audit.ts";
import { type Store, storeFromEnvironment } from "../store/client.ts";
import { getBalance } from "../store/credit.ts";
import { getReceipt } from "../store/receipts.ts";
import { listUsageEvents } from "../store/usage.ts";

const log = loggerFor("gateway-api");

const ANY_SCOPE: readonly KeyScope[] = [
	"chat.completions",
	"models.read",
	"usage.read",
];

interface RouteContext {
	event: APIGatewayProxyEvent;
	store: Store;
	cellId: string;
	requestId: string;
}

type Route = (context: RouteContext) => Promise<unknown>;

function cellIdOf(): string {
	return process.env.CELL_ID ?? "global";
}

function auth(
	context: RouteContext,
	scope: KeyScope | readonly KeyScope[],
): Promise<AuthenticatedKey> {
	return authenticate(context.store, header(context.event, "authorization"), {
		cellId: context.cellId,
		scope,
	});
}

/** Parses an ISO 8601 time or Unix seconds from a query parameter. */
function parseTime(value: string | undefined, name: string): Date | undefined {
	if (value === undefined || value === "") return undefined;
	const time = /^\d+$/.test(value)
		? new Date(Number(value) * 1000)
		: new Date(value);
	if (Number.isNaN(time.getTime())) {
		throw invalidRequest(
			`Invalid ${name} "${value}": use an ISO 8601 time such as 2026-12-01T00:00:00Z or Unix seconds.`,
			name,
		);
	}
	return time;
}

function parseLimit(value: string | undefined): number | undefined {
	if (value === undefined || value === "") return undefined;
	if (!/^\d+$/.test(value)) {
		throw invalidRequest(
			`Invalid limit "${value}": use an integer from 1 to 1000.`,
			"limit",
		);
	}
	return Number(value);
}

/**
 * Lists the models the calling key may use in this cell: those with at
 * least one compliant route, priced at the first route's customer price.
 */
async function usableModels(context: RouteContext) {
	const { key, workspace } = await auth(context, ANY_SCOPE);
	const catalog = await loadCatalog(context.store, context.cellId);
	const cell = getCell(context.cellId);
	const models = [...new Set(catalog.map((route) => route.model))].sort();
	const data = [];
	for (const model of models) {
		const plan = planRoutes({
			model,
			policy: workspace.policy,
			cell,
			key: { allowedModels: key.allowedModels, scopes: key.scopes },
			catalog,
		});
		const first = plan.candidates[0];
		if (!first?.price) continue;
		data.push({
			id: model,
			object: "model" as const,
			created: 0,
			owned_by: "global-ai-gateway",
			workload: first.workload,
			providers: plan.candidates.map((route) => route.providerId),
			pricing: {
				input_usd_per_million_tokens: microUsdToUsd(
					first.price.inputMicroUsdPerMillionTokens,
				),
				cached_input_usd_per_million_tokens: microUsdToUsd(
					first.price.cachedInputMicroUsdPerMillionTokens,
				),
				output_usd_per_million_tokens: microUsdToUsd(
					first.price.outputMicroUsdPerMillionTokens,
				),
			},
		});
	}
	return data;
}

const routes: Record<string, Route> = {
	"GET /health": async ({ cellId }) => ({ status: "ok", cell: cellId }),

	"GET /v1/models": async (context) => ({
		object: "list",
		data: await usableModels(context),
	}),

	"GET /v1/models/{id}": async (context) => {
		const id = context.event.pathParameters?.id ?? "";
		const model = (await usableModels(context)).find(
			(entry) => entry.id === id,
		);
		if (!model) {
			throw notFound(
				`The model "${id}" does not exist in this cell or this key may not use it. GET /v1/models lists the models it may use.`,
				"model_not_found",
				"id",
			);
		}
		return model;
	},

	"GET /v1/key": async (context) => {
		const { key: cached } = await auth(context, ANY_SCOPE);
		// Spend moves with every request, so read it fresh rather than from the key cache.
		const key =
			(await getApiKeyByHash(context.store, cached.keyHash)) ?? cached;
		return {
			id: key.keyId,
			name: key.name,
			prefix: key.prefix,
			workspace_id: key.workspaceId,
			cell: key.cell,
			scopes: key.scopes,
			status: key.status,
			budget_usd:
				key.budgetMicroUsd === undefined
					? null
					: microUsdToUsd(key.budgetMicroUsd),
			spent_usd: microUsdToUsd(key.spentMicroUsd),
			reserved_usd: microUsdToUsd(key.reservedMicroUsd),
			allowed_models: key.allowedModels ?? null,
			tags: key.tags,
			created_at: key.createdAt,
			expires_at: key.expiresAt ?? null,
		};
	},

	"GET /v1/credits": async (context) => {
		const { key } = await auth(context, ANY_SCOPE);
		const balance = await getBalance(context.store, key.workspaceId);
		const available = balance?.availableMicroUsd ?? 0;
		const reserved = balance?.reservedMicroUsd ?? 0;
		return {
			workspace_id: key.workspaceId,
			available_usd: microUsdToUsd(available),
			reserved_usd: microUsdToUsd(reserved),
			available_micro_usd: available,
			reserved_micro_usd: reserved,
		};
	},

	"GET /v1/usage": async (context) => {
		const { key } = await auth(context, "usage.read");
		const query = context.event.queryStringParameters ?? {};
		const events = await listUsageEvents(context.store, key.workspaceId, {
			keyId: query.key_id || undefined,
			from: parseTime(query.from, "from"),
			to: parseTime(query.to, "to"),
			limit: parseLimit(query.limit) ?? 100,
		});
		return {
			object: "list",
			data: events.map((usage) => ({
				request_id: usage.requestId,
				key_id: usage.keyId,
				model: usage.model,
				provider: usage.providerId,
				status: usage.status,
				stream: usage.stream,
				prompt_tokens: usage.promptTokens,
				cached_prompt_tokens: usage.cachedPromptTokens,
				completion_tokens: usage.completionTokens,
				reasoning_tokens: usage.reasoningTokens,
				cost_usd: microUsdToUsd(usage.chargeMicroUsd),
				charge_micro_usd: usage.chargeMicroUsd,
				latency_ms: usage.latencyMs,
				created_at: usage.createdAt,
			})),
		};
	},

	"GET /v1/receipts/{id}": async (context) => {
		const { key } = await auth(context, ANY_SCOPE);
		const id = context.event.pathParameters?.id ?? "";
		const receipt = await getReceipt(context.store, key.workspaceId, id);
		if (!receipt) {
			throw notFound(
				`Receipt "${id}" was not found in this workspace.`,
				"receipt_not_found",
				"id",
			);
		}
		return {
			id: receipt.receiptId,
			object: "receipt",
			kind: receipt.kind,
			amount_usd: microUsdToUsd(receipt.amountMicroUsd),
			amount_micro_usd: receipt.amountMicroUsd,
			request_id: receipt.requestId ?? null,
			key_id: receipt.keyId ?? null,
			model: receipt.model ?? null,
			description: receipt.description,
			seller_of_record: receipt.sellerOfRecord,
			created_at: receipt.createdAt,
		};
	},

	"GET /v1/requests/{id}": async (context) => {
		const { key } = await auth(context, ANY_SCOPE);
		const id = context.event.pathParameters?.id ?? "";
		const record = id.startsWith("req_")
			? await getAuditEvent(context.store, key.workspaceId, id)
			: undefined;
		if (record?.action !== "chat.request") {
			throw notFound(
				`Request "${id}" was not found in this workspace.`,
				"request_not_found",
				"id",
			);
		}
		return {
			id,
			object: "request",
			created_at: record.createdAt,
			...record.details,
		};
	},
};

/** Handles one buffered API Gateway REST proxy request. */
export async function handler(
	event: APIGatewayProxyEvent,
	lambdaContext: Context,
): Promise<APIGatewayProxyResult> {
	const requestId = lambdaContext.awsRequestId;
	const headers = {
		"content-type": "application/json",
		"x-request-id": requestId,
	};
	try {
		const route = routes[`${event.httpMethod} ${event.resource}`];
		if (!route) {
			throw notFound(
				`No route ${event.httpMethod} ${event.path}. See the API reference in the README.`,
				"route_not_found",
			);
		}
		const body = await route({
			event,
			store: storeFromEnvironment(),
			cellId: cellIdOf(),
			requestId,
		});
		return { statusCode: 200, headers, body: JSON.stringify(body) };
	} catch (error) {
		const gatewayError = toGatewayError(error);
		if (gatewayError.status >= 500) {
			log.error("api request failed", {
				requestId,
				route: event.resource,
				...errorSummary(error),
			});
		}
		return {
			statusCode: gatewayError.status,
			headers: { ...headers, ...gatewayError.headers },
			body: JSON.stringify(gatewayError.toJSON()),
		};
	}
}
