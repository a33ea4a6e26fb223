/**
 * Credit metering: reserve before a provider is called, settle after.
 *
 * ```
 * reserve ──► provider call ──► stream to client ──► settle
 *    │  one TransactWriteItems:        │               one TransactWriteItems:
 *    │  balance available → reserved   │               delete the reservation,
 *    │  key budget → reserved          │               balance and key debit,
 *    │  reservation item (expires)     │               usage event, ledger entry,
 *    │  idempotency record (optional)  │               receipt, daily rollup,
 *    │                                 │               audit record, idempotency
 *    └─ not enough credit: 402, no provider call       └─ or release: nothing charged
 * ```
 *
 * The reservation item is the guard against charging twice: settle and
 * release both delete it under a condition that it exists, so only one of
 * them (or the reconciler after a crash) can ever take effect.
 */
import { createHash } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { keys, RESERVATION_SHARDS, TTL_ATTRIBUTE } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import type {
	ApiKeyItem,
	AuditEventItem,
	BalanceItem,
	DailyRollupItem,
	LedgerEntryItem,
	ReceiptItem,
	ReservationItem,
	UsageEventItem,
	UsageStatus,
} from "./items.ts";
import { putNewItem, type TransactItem, transactWrite } from "./transact.ts";

/** How long an idempotency record is kept, in seconds. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface ReserveInput {
	requestId: string;
	workspaceId: string;
	keyId: string;
	keyHash: string;
	/** True when the key has a budget cap to reserve against. */
	keyHasBudget: boolean;
	model: string;
	amountMicroUsd: number;
	expiresAt: Date;
	idempotency?: { key: string; bodyHash: string };
	/** The key's per-minute limits and this request's estimated tokens. */
	rateLimit?: RateLimitCharge;
	now?: Date;
}

export interface RateLimitCharge {
	requestsPerMinute?: number;
	tokensPerMinute?: number;
	/** Estimated tokens of this request: prompt plus output limit. */
	tokens: number;
}

/** Per-minute window of a rate limit, in milliseconds. */
export const RATE_WINDOW_MS = 60_000;

/** Reason a reservation was refused. */
export type ReserveFailure =
	| { reason: "balance"; availableMicroUsd: number }
	| { reason: "key_budget"; budgetRemainingMicroUsd: number }
	| { reason: "key_inactive" }
	| { reason: "idempotency"; record: IdempotencyRecord | undefined }
	| { reason: "duplicate_request" }
	| {
			reason: "rate_limit";
			limit: "requests" | "tokens";
			limitValue: number;
			/** Seconds until the current window ends. */
			retryAfterSeconds: number;
	  };

export interface IdempotencyRecord {
	pk: string;
	sk: string;
	requestId: string;
	bodyHash: string;
	status: "in_progress" | "completed";
	/** Stored response for replay: the completion JSON. */
	response?: string;
	expiresAtEpochSeconds: number;
}

/** Thrown by reserveCredit when a condition fails. */
export class ReservationRefused extends Error {
	readonly failure: ReserveFailure;
	constructor(failure: ReserveFailure) {
		super(`Reservation refused: ${failure.reason}`);
		this.name = "ReservationRefused";
		this.failure = failure;
	}
}

function shardOf(requestId: string): number {
	const digest = createHash("sha256").update(requestId).digest();
	return (digest[0] as number) % RESERVATION_SHARDS;
}

interface CancellationReason {
	Code?: string;
	/** The item as it was, in the raw attribute-value form. */
	Item?: Record<string, unknown>;
}

/** Returns the old item of a failed condition as plain values. */
function oldItem<T>(reason: CancellationReason | undefined): T | undefined {
	return reason?.Item
		? (unmarshall(reason.Item as Parameters<typeof unmarshall>[0]) as T)
		: undefined;
}

function cancellationReasons(error: unknown): CancellationReason[] | undefined {
	if (
		error instanceof Error &&
		error.name === "TransactionCanceledException" &&
		"CancellationReasons" in error
	) {
		return (error as { CancellationReasons?: CancellationReason[] })
			.CancellationReasons;
	}
	return undefined;
}

/**
 * Moves the worst-case cost of a request from available to reserved on the
 * workspace balance and the key budget, and records the reservation, in one
 * transaction. The balance never goes below zero.
 *
 * @throws ReservationRefused when credit, key budget or the idempotency
 *   record refuses the request; nothing is written then.
 */
export async function reserveCredit(
	store: Store,
	input: ReserveInput,
): Promise<ReservationItem> {
	const now = input.now ?? new Date();
	const amount = input.amountMicroUsd;
	const expiresAt = input.expiresAt.toISOString();
	const reservation: ReservationItem = {
		...keys.reservation(input.workspaceId, input.requestId),
		...keys.openReservation(
			shardOf(input.requestId),
			expiresAt,
			input.requestId,
		),
		entity: "reservation",
		requestId: input.requestId,
		workspaceId: input.workspaceId,
		keyId: input.keyId,
		model: input.model,
		amountMicroUsd: amount,
		createdAt: now.toISOString(),
		expiresAt,
		...(input.idempotency ? { idempotencyKey: input.idempotency.key } : {}),
	};
	const items: TransactItem[] = [
		{
			Update: {
				TableName: store.tableName,
				Key: keys.balance(input.workspaceId),
				UpdateExpression:
					"SET availableMicroUsd = availableMicroUsd - :amount, reservedMicroUsd = reservedMicroUsd + :amount, updatedAt = :now",
				ConditionExpression: "availableMicroUsd >= :amount",
				ExpressionAttributeValues: {
					":amount": amount,
					":now": now.toISOString(),
				},
				ReturnValuesOnConditionCheckFailure: "ALL_OLD",
			},
		},
		{
			Update: {
				TableName: store.tableName,
				Key: keys.apiKey(input.keyHash),
				UpdateExpression: input.keyHasBudget
					? "SET reservedMicroUsd = reservedMicroUsd + :amount, budgetRemainingMicroUsd = budgetRemainingMicroUsd - :amount"
					: "SET reservedMicroUsd = reservedMicroUsd + :amount",
				ConditionExpression: input.keyHasBudget
					? "#status = :active AND budgetRemainingMicroUsd >= :amount"
					: "#status = :active",
				ExpressionAttributeNames: { "#status": "status" },
				ExpressionAttributeValues: { ":amount": amount, ":active": "active" },
				ReturnValuesOnConditionCheckFailure: "ALL_OLD",
			},
		},
		putNewItem(store, reservation),
	];
	if (input.idempotency) {
		const record: IdempotencyRecord = {
			...keys.idempotency(
				input.workspaceId,
				input.keyId,
				input.idempotency.key,
			),
			requestId: input.requestId,
			bodyHash: input.idempotency.bodyHash,
			status: "in_progress",
			expiresAtEpochSeconds:
				Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
		};
		items.push({
			Put: {
				TableName: store.tableName,
				Item: record,
				ConditionExpression: "attribute_not_exists(pk)",
				ReturnValuesOnConditionCheckFailure: "ALL_OLD",
			},
		});
	}

	const idempotencyIndex = input.idempotency ? 3 : -1;
	const windowStart =
		Math.floor(now.getTime() / RATE_WINDOW_MS) * RATE_WINDOW_MS;
	const limits = input.rateLimit;
	const rateIndex =
		limits && (limits.requestsPerMinute || limits.tokensPerMinute)
			? items.length
			: -1;
	if (limits && rateIndex >= 0) {
		items.push(rateWindowUpdate(store, input.keyId, windowStart, limits));
	}

	try {
		await transactWrite(store, items);
		return reservation;
	} catch (error) {
		const reasons = cancellationReasons(error);
		if (!reasons) throw error;
		const failedAt = (index: number) =>
			index >= 0 && reasons[index]?.Code === "ConditionalCheckFailed";
		if (limits && failedAt(rateIndex)) {
			throw new ReservationRefused(
				rateRefusal(
					limits,
					oldItem<RateWindowItem>(reasons[rateIndex]),
					windowStart,
					now,
				),
			);
		}
		throw new ReservationRefused(
			await describeRefusal(store, input, reasons, failedAt(idempotencyIndex)),
		);
	}
}

interface RateWindowItem {
	requests?: number;
	tokens?: number;
}

/**
 * Counts a request in the key's per-minute window, under the condition that
 * the counts stay within the limits. Condition expressions cannot add, so
 * the limit minus this request's tokens is computed here.
 */
function rateWindowUpdate(
	store: Store,
	keyId: string,
	windowStart: number,
	limits: RateLimitCharge,
): TransactItem {
	const conditions: string[] = [];
	const values: Record<string, unknown> = {
		":one": 1,
		":tokens": limits.tokens,
		":expires": Math.floor((windowStart + 2 * RATE_WINDOW_MS) / 1000),
	};
	if (limits.requestsPerMinute) {
		conditions.push(
			"(attribute_not_exists(requests) OR requests < :maxRequests)",
		);
		values[":maxRequests"] = limits.requestsPerMinute;
	}
	if (limits.tokensPerMinute) {
		conditions.push("(attribute_not_exists(tokens) OR tokens <= :tokenRoom)");
		values[":tokenRoom"] = limits.tokensPerMinute - limits.tokens;
		if (limits.tokens > limits.tokensPerMinute) {
			// A request larger than the whole window can never fit.
			conditions.push("attribute_exists(neverPresent)");
		}
	}
	return {
		Update: {
			TableName: store.tableName,
			Key: keys.rateWindow(keyId, new Date(windowStart).toISOString()),
			UpdateExpression: `ADD requests :one, tokens :tokens SET ${TTL_ATTRIBUTE} = :expires`,
			ConditionExpression: conditions.join(" AND "),
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: "ALL_OLD",
		},
	};
}

function rateRefusal(
	limits: RateLimitCharge,
	window: RateWindowItem | undefined,
	windowStart: number,
	now: Date,
): ReserveFailure {
	const retryAfterSeconds = Math.max(
		1,
		Math.ceil((windowStart + RATE_WINDOW_MS - now.getTime()) / 1000),
	);
	const requestsFull =
		limits.requestsPerMinute !== undefined &&
		(window?.requests ?? 0) >= limits.requestsPerMinute;
	return requestsFull || !limits.tokensPerMinute
		? {
				reason: "rate_limit",
				limit: "requests",
				limitValue: limits.requestsPerMinute ?? 0,
				retryAfterSeconds,
			}
		: {
				reason: "rate_limit",
				limit: "tokens",
				limitValue: limits.tokensPerMinute,
				retryAfterSeconds,
			};
}

async function describeRefusal(
	store: Store,
	input: ReserveInput,
	reasons: CancellationReason[],
	idempotencyFailed: boolean,
): Promise<ReserveFailure> {
	const failed = (index: number) =>
		reasons[index]?.Code === "ConditionalCheckFailed";
	if (input.idempotency && idempotencyFailed) {
		const record =
			oldItem<IdempotencyRecord>(reasons[3]) ??
			((
				await store.doc.send(
					new GetCommand({
						TableName: store.tableName,
						Key: keys.idempotency(
							input.workspaceId,
							input.keyId,
							input.idempotency.key,
						),
						ConsistentRead: true,
					}),
				)
			).Item as IdempotencyRecord | undefined);
		return { reason: "idempotency", record };
	}
	if (failed(2)) return { reason: "duplicate_request" };
	if (failed(1)) {
		const key =
			oldItem<Partial<ApiKeyItem>>(reasons[1]) ??
			((
				await store.doc.send(
					new GetCommand({
						TableName: store.tableName,
						Key: keys.apiKey(input.keyHash),
					}),
				)
			).Item as Partial<ApiKeyItem> | undefined);
		if (key?.status !== "active") return { reason: "key_inactive" };
		return {
			reason: "key_budget",
			budgetRemainingMicroUsd: key?.budgetRemainingMicroUsd ?? 0,
		};
	}
	const balance =
		oldItem<Partial<BalanceItem>>(reasons[0]) ??
		((
			await store.doc.send(
				new GetCommand({
					TableName: store.tableName,
					Key: keys.balance(input.workspaceId),
					ConsistentRead: true,
				}),
			)
		).Item as Partial<BalanceItem> | undefined);
	return {
		reason: "balance",
		availableMicroUsd: balance?.availableMicroUsd ?? 0,
	};
}

/** Usage and cost of one request, as settlement records them. */
export interface SettleInput {
	reservation: ReservationItem;
	keyHash: string;
	keyHasBudget: boolean;
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
	latencyMs: number;
	attempts: number;
	sellerOfRecord: string;
	audit: Omit<
		AuditEventItem,
		"pk" | "sk" | "entity" | "eventId" | "workspaceId" | "createdAt"
	>;
	idempotencyKey?: string;
	/**
	 * Response body stored for idempotent replay. Without it, the request
	 * ended early (client gone, provider failed) and its idempotency record
	 * is deleted, so the client's retry runs as a new request.
	 */
	idempotentResponse?: string;
	/** True when the token counts are estimates because the provider sent none. */
	usageEstimated?: boolean;
	now?: Date;
}

export interface SettleResult {
	/** False when the reservation was already settled or released. */
	settled: boolean;
	usageEvent?: UsageEventItem;
}

/**
 * Settles a reservation in one transaction: releases it, debits the actual
 * charge from the balance and the key, and writes the usage event, ledger
 * entry, receipt, daily rollup, audit record and idempotency result.
 *
 * The actual charge can exceed the reservation. When the balance or key
 * budget cannot cover the difference, only what they cover is collected and
 * the rest is recorded as `uncollectedMicroUsd`. So no balance goes below
 * zero and no cap is passed.
 */
export async function settleCharge(
	store: Store,
	input: SettleInput,
): Promise<SettleResult> {
	let collectible = input.chargeMicroUsd;
	for (let attempt = 0; attempt < 4; attempt++) {
		try {
			const usageEvent = await writeSettlement(store, input, collectible);
			return { settled: true, usageEvent };
		} catch (error) {
			const reasons = cancellationReasons(error);
			if (!reasons) throw error;
			if (reasons[0]?.Code === "ConditionalCheckFailed") {
				return { settled: false };
			}
			const short =
				reasons[1]?.Code === "ConditionalCheckFailed" ||
				reasons[2]?.Code === "ConditionalCheckFailed";
			if (!short) throw error;
			collectible = await collectibleCharge(store, input, collectible);
		}
	}
	throw new Error(
		`Settlement of request ${input.reservation.requestId} kept conflicting; the reconciler will retry it.`,
	);
}

async function collectibleCharge(
	store: Store,
	input: SettleInput,
	charge: number,
): Promise<number> {
	const { reservation } = input;
	const [balance, key] = await Promise.all([
		store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.balance(reservation.workspaceId),
				ConsistentRead: true,
			}),
		),
		store.doc.send(
			new GetCommand({
				TableName: store.tableName,
				Key: keys.apiKey(input.keyHash),
				ConsistentRead: true,
			}),
		),
	]);
	let room = Math.max(0, (balance.Item?.availableMicroUsd as number) ?? 0);
	if (input.keyHasBudget) {
		room = Math.min(
			room,
			Math.max(0, (key.Item?.budgetRemainingMicroUsd as number) ?? 0),
		);
	}
	return Math.min(charge, reservation.amountMicroUsd + room);
}

async function writeSettlement(
	store: Store,
	input: SettleInput,
	collected: number,
): Promise<UsageEventItem> {
	const { reservation } = input;
	const now = (input.now ?? new Date()).toISOString();
	const workspaceId = reservation.workspaceId;
	const requestId = reservation.requestId;
	const reserved = reservation.amountMicroUsd;
	const delta = reserved - collected;
	const receiptId = requestId;
	const usageEvent: UsageEventItem = {
		...keys.usageEvent(workspaceId, requestId),
		entity: "usageEvent",
		requestId,
		workspaceId,
		keyId: reservation.keyId,
		model: reservation.model,
		providerId: input.providerId,
		routeId: input.routeId,
		stream: input.stream,
		status: input.status,
		promptTokens: input.promptTokens,
		cachedPromptTokens: input.cachedPromptTokens,
		completionTokens: input.completionTokens,
		reasoningTokens: input.reasoningTokens,
		chargeMicroUsd: collected,
		providerCostMicroUsd: input.providerCostMicroUsd,
		grossMarginMicroUsd: collected - input.providerCostMicroUsd,
		uncollectedMicroUsd: input.chargeMicroUsd - collected,
		...(input.usageEstimated ? { usageEstimated: true } : {}),
		latencyMs: input.latencyMs,
		attempts: input.attempts,
		receiptId,
		createdAt: now,
	};
	const ledgerEntry: LedgerEntryItem = {
		...keys.ledgerEntry(workspaceId, requestId),
		entity: "ledgerEntry",
		entryId: requestId,
		workspaceId,
		kind: "charge",
		amountMicroUsd: -collected,
		requestId,
		receiptId,
		createdAt: now,
	};
	const receipt: ReceiptItem = {
		...keys.receipt(workspaceId, receiptId),
		entity: "receipt",
		receiptId,
		workspaceId,
		kind: "usage",
		amountMicroUsd: collected,
		requestId,
		keyId: reservation.keyId,
		model: reservation.model,
		providerId: input.providerId,
		providerCostMicroUsd: input.providerCostMicroUsd,
		grossMarginMicroUsd: collected - input.providerCostMicroUsd,
		sellerOfRecord: input.sellerOfRecord,
		description: `${reservation.model} via ${input.providerId}: ${input.promptTokens} prompt and ${input.completionTokens} completion tokens`,
		createdAt: now,
	};
	const audit: AuditEventItem = {
		...keys.auditEvent(workspaceId, requestId),
		entity: "auditEvent",
		eventId: requestId,
		workspaceId,
		createdAt: now,
		...input.audit,
	};
	const day = now.slice(0, 10);
	const rollupKey = keys.dailyRollup(workspaceId, day, reservation.keyId);
	const rollupFields: Omit<
		DailyRollupItem,
		| "pk"
		| "sk"
		| "requests"
		| "chargeMicroUsd"
		| "promptTokens"
		| "completionTokens"
	> = {
		entity: "dailyRollup",
		workspaceId,
		day,
		keyId: reservation.keyId,
	};
	const items: TransactItem[] = [
		{
			Delete: {
				TableName: store.tableName,
				Key: keys.reservation(workspaceId, requestId),
				ConditionExpression: "attribute_exists(pk)",
			},
		},
		{
			Update: {
				TableName: store.tableName,
				Key: keys.balance(workspaceId),
				UpdateExpression:
					"SET availableMicroUsd = availableMicroUsd + :delta, reservedMicroUsd = reservedMicroUsd - :reserved, updatedAt = :now",
				ConditionExpression:
					delta >= 0
						? "attribute_exists(pk)"
						: "availableMicroUsd >= :shortfall",
				ExpressionAttributeValues: {
					":delta": delta,
					":reserved": reserved,
					":now": now,
					...(delta >= 0 ? {} : { ":shortfall": -delta }),
				},
			},
		},
		{
			Update: {
				TableName: store.tableName,
				Key: keys.apiKey(input.keyHash),
				UpdateExpression: input.keyHasBudget
					? "SET spentMicroUsd = spentMicroUsd + :collected, reservedMicroUsd = reservedMicroUsd - :reserved, budgetRemainingMicroUsd = budgetRemainingMicroUsd + :delta, lastUsedAt = :now"
					: "SET spentMicroUsd = spentMicroUsd + :collected, reservedMicroUsd = reservedMicroUsd - :reserved, lastUsedAt = :now",
				ConditionExpression:
					input.keyHasBudget && delta < 0
						? "budgetRemainingMicroUsd >= :shortfall"
						: "attribute_exists(pk)",
				ExpressionAttributeValues: {
					":collected": collected,
					":reserved": reserved,
					":now": now,
					...(input.keyHasBudget ? { ":delta": delta } : {}),
					...(input.keyHasBudget && delta < 0 ? { ":shortfall": -delta } : {}),
				},
			},
		},
		putNewItem(store, usageEvent),
		putNewItem(store, ledgerEntry),
		putNewItem(store, receipt),
		{
			Update: {
				TableName: store.tableName,
				Key: rollupKey,
				UpdateExpression:
					"SET entity = :entity, workspaceId = :ws, #day = :day, keyId = :keyId ADD requests :one, chargeMicroUsd :collected, promptTokens :prompt, completionTokens :completion",
				ExpressionAttributeNames: { "#day": "day" },
				ExpressionAttributeValues: {
					":entity": rollupFields.entity,
					":ws": workspaceId,
					":day": day,
					":keyId": reservation.keyId,
					":one": 1,
					":collected": collected,
					":prompt": input.promptTokens,
					":completion": input.completionTokens,
				},
			},
		},
		{ Put: { TableName: store.tableName, Item: audit } },
	];
	if (input.idempotencyKey && input.idempotentResponse === undefined) {
		items.push(
			idempotencyRecordDelete(store, reservation, input.idempotencyKey),
		);
	} else if (input.idempotencyKey) {
		items.push({
			Update: {
				TableName: store.tableName,
				Key: keys.idempotency(
					workspaceId,
					reservation.keyId,
					input.idempotencyKey,
				),
				UpdateExpression: "SET #status = :completed, #response = :response",
				ConditionExpression: "requestId = :requestId",
				ExpressionAttributeNames: {
					"#status": "status",
					"#response": "response",
				},
				ExpressionAttributeValues: {
					":completed": "completed",
					":response": input.idempotentResponse ?? "",
					":requestId": requestId,
				},
			},
		});
	}
	await transactWrite(store, items);
	return usageEvent;
}

/**
 * Deletes a request's idempotency record, so a retry with the same key runs
 * as a new request. The condition passes when the record is this request's
 * or already gone (expired by TTL).
 */
function idempotencyRecordDelete(
	store: Store,
	reservation: ReservationItem,
	idempotencyKey: string,
): TransactItem {
	return {
		Delete: {
			TableName: store.tableName,
			Key: keys.idempotency(
				reservation.workspaceId,
				reservation.keyId,
				idempotencyKey,
			),
			ConditionExpression: "attribute_not_exists(pk) OR requestId = :requestId",
			ExpressionAttributeValues: { ":requestId": reservation.requestId },
		},
	};
}

export interface ReleaseInput {
	reservation: ReservationItem;
	keyHash: string;
	keyHasBudget: boolean;
	/** Audit record of the request, written in the same transaction. */
	audit?: SettleInput["audit"];
	idempotencyKey?: string;
	now?: Date;
}

/**
 * Returns a reservation to the balance and key budget with nothing
 * charged, for requests that no provider served.
 *
 * @returns false when the reservation was already settled or released.
 */
export async function releaseReservation(
	store: Store,
	input: ReleaseInput,
): Promise<boolean> {
	const { reservation } = input;
	const now = (input.now ?? new Date()).toISOString();
	const amount = reservation.amountMicroUsd;
	const workspaceId = reservation.workspaceId;
	const items: TransactItem[] = [
		{
			Delete: {
				TableName: store.tableName,
				Key: keys.reservation(workspaceId, reservation.requestId),
				ConditionExpression: "attribute_exists(pk)",
			},
		},
		{
			Update: {
				TableName: store.tableName,
				Key: keys.balance(workspaceId),
				UpdateExpression:
					"SET availableMicroUsd = availableMicroUsd + :amount, reservedMicroUsd = reservedMicroUsd - :amount, updatedAt = :now",
				ExpressionAttributeValues: { ":amount": amount, ":now": now },
			},
		},
		{
			Update: {
				TableName: store.tableName,
				Key: keys.apiKey(input.keyHash),
				UpdateExpression: input.keyHasBudget
					? "SET reservedMicroUsd = reservedMicroUsd - :amount, budgetRemainingMicroUsd = budgetRemainingMicroUsd + :amount"
					: "SET reservedMicroUsd = reservedMicroUsd - :amount",
				ExpressionAttributeValues: { ":amount": amount },
			},
		},
	];
	if (input.audit) {
		const audit: AuditEventItem = {
			...keys.auditEvent(workspaceId, reservation.requestId),
			entity: "auditEvent",
			eventId: reservation.requestId,
			workspaceId,
			createdAt: now,
			...input.audit,
		};
		items.push({ Put: { TableName: store.tableName, Item: audit } });
	}
	if (input.idempotencyKey) {
		items.push(
			idempotencyRecordDelete(store, reservation, input.idempotencyKey),
		);
	}
	try {
		await transactWrite(store, items);
		return true;
	} catch (error) {
		const reasons = cancellationReasons(error);
		if (reasons?.[0]?.Code === "ConditionalCheckFailed") return false;
		throw error;
	}
}
