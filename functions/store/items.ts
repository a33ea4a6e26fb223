/**
 * Attribute shapes of the table's items. Key attributes come from the
 * builders in `shared/table.ts`; every amount is integer micro-USD.
 */
import type { KeyScope } from "../../shared/api-key.ts";

export type DataRetentionRequirement = "none" | "any";
export type LoggingPolicy = "metadata" | "full";

/** A workspace's provider policy, narrowed further by the cell. */
export interface WorkspacePolicy {
	/** Processing regions (SG, US, CN, EU, global) the workspace allows. */
	allowedRegions: string[];
	/** `none` removes every provider that retains prompts. */
	retention: DataRetentionRequirement;
	/** Provider ids; absent means every provider. */
	allowedProviders?: string[];
	/** Model ids; absent means every model. */
	allowedModels?: string[];
	logging: LoggingPolicy;
}

export interface WorkspaceItem {
	pk: string;
	sk: "META";
	entity: "workspace";
	workspaceId: string;
	name: string;
	cell: string;
	policy: WorkspacePolicy;
	createdAt: string;
}

export interface BalanceItem {
	pk: string;
	sk: "BALANCE";
	entity: "balance";
	workspaceId: string;
	availableMicroUsd: number;
	reservedMicroUsd: number;
	updatedAt: string;
}

export interface KeyTags {
	project?: string;
	department?: string;
	client?: string;
}

export interface RateLimit {
	requestsPerMinute?: number;
	tokensPerMinute?: number;
}

export interface ApiKeyItem {
	pk: string;
	sk: "KEY";
	entity: "apiKey";
	keyId: string;
	keyHash: string;
	workspaceId: string;
	cell: string;
	name: string;
	/** Masked key, safe to show: `sk-gag-sg-AbCd…wXyZ`. */
	prefix: string;
	scopes: KeyScope[];
	status: "active" | "revoked";
	createdAt: string;
	expiresAt?: string;
	revokedAt?: string;
	/** Key this one replaced when it was rotated. */
	rotatedFromKeyId?: string;
	/** Key that replaced this one when it was rotated. */
	replacedByKeyId?: string;
	lastUsedAt?: string;
	/** Model ids this key may call; absent means any the policy allows. */
	allowedModels?: string[];
	/** Spend cap of this key; absent means only the balance limits it. */
	budgetMicroUsd?: number;
	/**
	 * budgetMicroUsd − spentMicroUsd − reservedMicroUsd, kept as its own
	 * attribute because condition expressions cannot add. Present exactly
	 * when budgetMicroUsd is.
	 */
	budgetRemainingMicroUsd?: number;
	spentMicroUsd: number;
	reservedMicroUsd: number;
	tags: KeyTags;
	rateLimit?: RateLimit;
	gsi1pk: string;
	gsi1sk: string;
	gsi2pk: string;
	gsi2sk: string;
}

export type UsageStatus =
	| "completed"
	| "client_disconnected"
	| "provider_failed_mid_stream"
	| "expired";

export interface UsageEventItem {
	pk: string;
	sk: string;
	entity: "usageEvent";
	requestId: string;
	workspaceId: string;
	keyId: string;
	model: string;
	providerId: string;
	routeId: string;
	stream: boolean;
	status: UsageStatus;
	promptTokens: number;
	cachedPromptTokens: number;
	completionTokens: number;
	reasoningTokens: number;
	chargeMicroUsd: number;
	providerCostMicroUsd: number;
	grossMarginMicroUsd: number;
	/** Part of the charge the balance could not cover; the platform absorbs it. */
	uncollectedMicroUsd: number;
	/** True when the provider sent no token counts and these are estimates. */
	usageEstimated?: boolean;
	latencyMs: number;
	attempts: number;
	receiptId: string;
	createdAt: string;
}

export type LedgerKind = "topup" | "charge" | "adjustment";

export interface LedgerEntryItem {
	pk: string;
	sk: string;
	entity: "ledgerEntry";
	entryId: string;
	workspaceId: string;
	kind: LedgerKind;
	/** Signed: positive adds credit, negative spends it. */
	amountMicroUsd: number;
	requestId?: string;
	receiptId?: string;
	note?: string;
	createdAt: string;
}

export interface ReceiptItem {
	pk: string;
	sk: string;
	entity: "receipt";
	receiptId: string;
	workspaceId: string;
	kind: "usage" | "purchase";
	amountMicroUsd: number;
	requestId?: string;
	keyId?: string;
	model?: string;
	providerId?: string;
	providerCostMicroUsd?: number;
	grossMarginMicroUsd?: number;
	sellerOfRecord: string;
	description: string;
	createdAt: string;
}

export interface ReservationItem {
	pk: string;
	sk: string;
	entity: "reservation";
	requestId: string;
	workspaceId: string;
	keyId: string;
	model: string;
	amountMicroUsd: number;
	createdAt: string;
	expiresAt: string;
	/** The request's Idempotency-Key, so a release can clear its record. */
	idempotencyKey?: string;
	gsi1pk: string;
	gsi1sk: string;
}

export interface AuditEventItem {
	pk: string;
	sk: string;
	entity: "auditEvent";
	eventId: string;
	workspaceId: string;
	action: string;
	/** Key id, user id or `admin-cli`; never a secret. */
	actor: string;
	details: Record<string, unknown>;
	createdAt: string;
}

export interface DailyRollupItem {
	pk: string;
	sk: string;
	entity: "dailyRollup";
	workspaceId: string;
	day: string;
	keyId: string;
	requests: number;
	chargeMicroUsd: number;
	promptTokens: number;
	completionTokens: number;
}

export type PurchaseStatus = "open" | "approved";

/** One line of a purchase request, such as a credit pack. */
export interface PurchaseLine {
	description: string;
	/** Price of the line in micro-USD. */
	amountMicroUsd: number;
}

export interface PurchaseContact {
	name?: string;
	email: string;
}

/** A customer's request to buy credit, fulfilled by an operator. */
export interface PurchaseRequestItem {
	pk: string;
	sk: string;
	entity: "purchaseRequest";
	purchaseId: string;
	workspaceId: string;
	status: PurchaseStatus;
	items: PurchaseLine[];
	/** Sum of the lines' amounts. */
	totalMicroUsd: number;
	contact: PurchaseContact;
	note?: string;
	requestedBy: string;
	createdAt: string;
	approvedAt?: string;
	approvedBy?: string;
	/** Credit added on approval, when the operator topped up. */
	creditedMicroUsd?: number;
	/** Purchase receipt of that top-up. */
	receiptId?: string;
	/** `PURCHASES#<status>`, so operators can list open requests. */
	gsi1pk: string;
	gsi1sk: string;
}
