/**
 * Fixtures for the portal API tests: API Gateway REST proxy events for
 * `/portal/...`, sign-in through a real one-time link, and settled
 * requests written by the real metering code.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { expect } from "vitest";
import { handlePortalEvent } from "../../functions/portal/handler.ts";
import type { Store } from "../../functions/store/client.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import type { ApiKeyItem, UsageStatus } from "../../functions/store/items.ts";
import type { MemberRole } from "../../functions/store/members.ts";
import { reserveCredit, settleCharge } from "../../functions/store/metering.ts";
import { createSignInLink } from "../../functions/store/portal-sessions.ts";

export interface PortalCallOptions {
	cookie?: string;
	body?: unknown;
	query?: Record<string, string>;
	headers?: Record<string, string>;
	claims?: Record<string, string>;
}

/** Builds the REST proxy event API Gateway sends for `/portal{path}`. */
export function portalEvent(
	method: string,
	path: string,
	options: PortalCallOptions = {},
): APIGatewayProxyEvent {
	return {
		httpMethod: method,
		path: `/portal${path}`,
		resource: "/portal/{proxy+}",
		pathParameters: { proxy: path.replace(/^\//, "") },
		queryStringParameters: options.query ?? null,
		multiValueQueryStringParameters: null,
		headers: {
			Host: "127.0.0.1:8787",
			...(options.cookie ? { Cookie: options.cookie } : {}),
			...(options.body === undefined
				? {}
				: { "Content-Type": "application/json" }),
			...options.headers,
		},
		multiValueHeaders: {},
		body: options.body === undefined ? null : JSON.stringify(options.body),
		isBase64Encoded: false,
		stageVariables: null,
		requestContext: {
			requestId: "test-request",
			...(options.claims ? { authorizer: { claims: options.claims } } : {}),
		} as unknown as APIGatewayProxyEvent["requestContext"],
	};
}

export interface PortalResult {
	status: number;
	headers: Record<string, string>;
	// biome-ignore lint/suspicious/noExplicitAny: tests read fields of any response shape.
	body: any;
	text: string;
}

/** Calls the portal handler and parses a JSON body. */
export async function callPortal(
	store: Store,
	method: string,
	path: string,
	options: PortalCallOptions = {},
): Promise<PortalResult> {
	const result: APIGatewayProxyResult = await handlePortalEvent(
		portalEvent(method, path, options),
		store,
	);
	const headers = (result.headers ?? {}) as Record<string, string>;
	const isJson = String(headers["content-type"] ?? "").includes("json");
	return {
		status: result.statusCode,
		headers,
		body: isJson && result.body ? JSON.parse(result.body) : undefined,
		text: result.body,
	};
}

/** Signs a user in through a one-time link and returns the `cookie` header. */
export async function signIn(
	store: Store,
	workspaceId: string,
	role: MemberRole,
	options: { userId?: string; operator?: boolean } = {},
): Promise<string> {
	const url = await createSignInLink(store, {
		workspaceId,
		userId: options.userId ?? `user-${role}-${workspaceId}`,
		role,
		baseUrl: "http://127.0.0.1:8787",
		...(options.operator ? { operator: true } : {}),
	});
	const token = new URLSearchParams(new URL(url).hash.slice(1)).get("token");
	const response = await callPortal(store, "POST", "/session", {
		body: { token },
	});
	expect(response.status).toBe(200);
	const setCookie = response.headers["set-cookie"] ?? "";
	return setCookie.split(";")[0] as string;
}

/**
 * Runs one request through reserve and settle, as the chat handler does,
 * so usage, receipt, rollup and audit items are the real ones.
 *
 * @returns the request id, which is also the receipt and audit event id.
 */
export async function settleRequest(
	store: Store,
	key: ApiKeyItem,
	options: {
		model?: string;
		chargeMicroUsd?: number;
		usageStatus?: UsageStatus;
	} = {},
): Promise<string> {
	const requestId = newRequestId();
	const model = options.model ?? "gpt-4o-mini";
	const usageStatus = options.usageStatus ?? "completed";
	const chargeMicroUsd = options.chargeMicroUsd ?? 1_500;
	const reservation = await reserveCredit(store, {
		requestId,
		workspaceId: key.workspaceId,
		keyId: key.keyId,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		model,
		amountMicroUsd: chargeMicroUsd * 2,
		expiresAt: new Date(Date.now() + 60_000),
	});
	await settleCharge(store, {
		reservation,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		providerId: "sim-sg",
		routeId: `sim-sg/${model}`,
		stream: usageStatus !== "completed",
		status: usageStatus,
		promptTokens: 12,
		cachedPromptTokens: 0,
		completionTokens: 30,
		reasoningTokens: 0,
		chargeMicroUsd,
		providerCostMicroUsd: Math.floor(chargeMicroUsd * 0.8),
		latencyMs: 7,
		attempts: 2,
		sellerOfRecord: "Test seller",
		audit: {
			action: "chat.request",
			actor: key.keyId,
			details: {
				requestId,
				model,
				candidates: [`sim-bedrock-sg/${model}`, `sim-sg/${model}`],
				excluded: [
					{
						routeId: `sim-us/${model}`,
						providerId: "sim-us",
						reasons: ["cell_region", "policy_region"],
					},
				],
				attempts: [
					{
						providerId: "sim-bedrock-sg",
						routeId: `sim-bedrock-sg/${model}`,
						outcome: "rate_limited",
						status: 429,
						latencyMs: 3,
						reason: "Provider sim-bedrock-sg returned 429.",
					},
					{
						providerId: "sim-sg",
						routeId: `sim-sg/${model}`,
						outcome: "served",
						latencyMs: 4,
					},
				],
				finalRoute: `sim-sg/${model}`,
				status: 200,
				usageStatus,
			},
		},
	});
	return requestId;
}
