/**
 * Reservation reconciler: releases reservations whose expiry has passed, so
 * credit held by a request whose function crashed between reserve and
 * settle returns to the balance and the key budget.
 *
 * Only expired reservations are touched. The chat handler sets a
 * reservation's expiry to the function's timeout plus a margin, so the
 * request that made it can no longer be running and cannot settle after the
 * release. The release deletes the reservation item under
 * `attribute_exists`, which makes every run idempotent: a reservation that
 * was settled, released by the chat handler or released by a concurrent run
 * is counted as already done and changes nothing.
 */
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { keys, RESERVATION_SHARDS } from "../../shared/table.ts";
import { getApiKeyById } from "./api-keys.ts";
import type { Store } from "./client.ts";
import type { ApiKeyItem, AuditEventItem, ReservationItem } from "./items.ts";
import { releaseReservation } from "./metering.ts";
import { queryItems } from "./query.ts";
import { conditionFailedAt, transactWrite } from "./transact.ts";

/** Reservations released per run unless the caller sets a limit. */
export const DEFAULT_RECONCILE_LIMIT = 1_000;
/** Releases in flight at once. */
const RELEASE_CONCURRENCY = 8;

/** Audit action of a reservation released after its expiry. */
export const RESERVATION_EXPIRED_ACTION = "reservation.expired";
/** Audit actor of the reconciler's releases. */
export const RECONCILER_ACTOR = "reconciler";

export interface ReconcileOptions {
	/**
	 * Reservations that expired before this time are released. Defaults to
	 * the current time and may not be later than it.
	 */
	now?: Date;
	/** Maximum reservations to release in this run, oldest expiry first. */
	limit?: number;
}

export interface ReconcileFailure {
	requestId: string;
	workspaceId: string;
	error: unknown;
}

export interface ReconcileResult {
	/** Reservations this run tried to release (at most the limit). */
	examined: number;
	/** Reservations this run released. */
	released: number;
	/** Reservations that another caller settled or released first. */
	alreadyDone: number;
	/** Releases that failed with an error. The next run retries them. */
	failed: number;
	/**
	 * Open reservations past expiry when the run started, including those
	 * beyond the limit.
	 */
	pastExpiryBefore: number;
	failures: ReconcileFailure[];
}

/**
 * Releases every open reservation that expired before `now`, up to `limit`,
 * oldest first, and writes a `reservation.expired` audit event for each in
 * the same transaction. Safe to run twice or concurrently: a reservation is
 * released exactly once.
 *
 * A failed release is counted and returned, not thrown.
 *
 * @throws RangeError for a `now` in the future or an invalid limit, and
 *   the DynamoDB error when the index query fails.
 */
export async function reconcileReservations(
	store: Store,
	options: ReconcileOptions = {},
): Promise<ReconcileResult> {
	const now = checkNow(options.now);
	const limit = options.limit ?? DEFAULT_RECONCILE_LIMIT;
	if (!Number.isSafeInteger(limit) || limit < 1) {
		throw new RangeError(
			`Invalid reconcile limit ${limit}: use a positive integer.`,
		);
	}
	const { reservations, pastExpiry } = await findExpiredReservations(
		store,
		now,
		limit,
	);

	const result: ReconcileResult = {
		examined: reservations.length,
		released: 0,
		alreadyDone: 0,
		failed: 0,
		pastExpiryBefore: pastExpiry,
		failures: [],
	};
	await forEachConcurrently(reservations, async (reservation) => {
		try {
			const released = await expireReservation(store, reservation);
			if (released) result.released++;
			else result.alreadyDone++;
		} catch (error) {
			result.failed++;
			result.failures.push({
				requestId: reservation.requestId,
				workspaceId: reservation.workspaceId,
				error,
			});
		}
	});
	return result;
}

/**
 * Checks the cutoff time. A cutoff in the future would release reservations
 * of requests that may still be running, which could then not settle.
 */
function checkNow(now: Date | undefined): Date {
	const current = new Date();
	if (now === undefined) return current;
	if (Number.isNaN(now.getTime())) {
		throw new RangeError(
			"Invalid now: use an ISO 8601 time such as 2026-01-31T00:00:00Z.",
		);
	}
	if (now > current) {
		throw new RangeError(
			`Invalid now ${now.toISOString()}: it is later than the current time ${current.toISOString()}, so reservations of running requests could be released. Use a time at or before the current time.`,
		);
	}
	return now;
}

/**
 * Reads the oldest `limit` expired reservations across all shards of the
 * open-reservation index, and counts every expired one. The index is
 * eventually consistent, so it may still list a reservation that was just
 * settled, and the release then finds it gone.
 */
async function findExpiredReservations(
	store: Store,
	now: Date,
	limit: number,
): Promise<{ reservations: ReservationItem[]; pastExpiry: number }> {
	const shards = Array.from({ length: RESERVATION_SHARDS }, (_, i) => i);
	const perShard = await Promise.all(
		shards.map(async (shard) => {
			const query = expiredInShard(shard, now);
			const items = await queryItems<ReservationItem>(store, query, limit);
			const count =
				items.length < limit ? items.length : await countItems(store, query);
			return { items, count };
		}),
	);

	const reservations = perShard
		.flatMap((shard) => shard.items)
		.sort(byExpiry)
		.slice(0, limit);
	const pastExpiry = perShard.reduce((sum, shard) => sum + shard.count, 0);
	return { reservations, pastExpiry };
}

/** Orders reservations by index sort key: expiry first, then request id. */
function byExpiry(a: ReservationItem, b: ReservationItem): number {
	if (a.gsi1sk < b.gsi1sk) return -1;
	if (a.gsi1sk > b.gsi1sk) return 1;
	return 0;
}

function expiredInShard(shard: number, now: Date) {
	// Sort keys are `<expiresAt ISO>#<requestId>`, so every key below the
	// bare ISO time of `now` expired strictly before it.
	return {
		IndexName: "gsi1",
		KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :now",
		ExpressionAttributeValues: {
			":pk": keys.openReservation(shard, "", "").gsi1pk,
			":now": now.toISOString(),
		},
	};
}

async function countItems(
	store: Store,
	query: ReturnType<typeof expiredInShard>,
): Promise<number> {
	let count = 0;
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await store.doc.send(
			new QueryCommand({
				...query,
				TableName: store.tableName,
				Select: "COUNT",
				ExclusiveStartKey: startKey,
			}),
		);
		count += page.Count ?? 0;
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return count;
}

/**
 * Releases one expired reservation.
 *
 * @returns false when it was already settled or released.
 */
async function expireReservation(
	store: Store,
	reservation: ReservationItem,
): Promise<boolean> {
	const now = new Date();
	const key = await findKey(store, reservation.keyId);
	const audit = {
		action: RESERVATION_EXPIRED_ACTION,
		actor: RECONCILER_ACTOR,
		details: {
			requestId: reservation.requestId,
			keyId: reservation.keyId,
			model: reservation.model,
			amountMicroUsd: reservation.amountMicroUsd,
			expiresAt: reservation.expiresAt,
			keyFound: key !== undefined,
		},
	};
	if (!key) return releaseWithoutKey(store, reservation, audit, now);
	// Releasing also deletes an idempotency record the crashed request left
	// in progress, so the client's retry with the same key can run.
	return releaseReservation(store, {
		reservation,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		audit,
		now,
		...(reservation.idempotencyKey
			? { idempotencyKey: reservation.idempotencyKey }
			: {}),
	});
}

/**
 * Finds a key by id through gsi2, then reads the table item by hash with a
 * consistent read, because whether the key has a budget decides which
 * attributes the release updates.
 */
async function findKey(
	store: Store,
	keyId: string,
): Promise<ApiKeyItem | undefined> {
	const indexed = await getApiKeyById(store, keyId);
	if (!indexed) return undefined;
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.apiKey(indexed.keyHash),
			ConsistentRead: true,
		}),
	);
	return result.Item as ApiKeyItem | undefined;
}

/**
 * Releases a reservation whose key item no longer exists: the balance gets
 * the credit back and there is no key budget to restore. An update of the
 * missing key item would fail, so this cannot go through releaseReservation.
 */
async function releaseWithoutKey(
	store: Store,
	reservation: ReservationItem,
	audit: Pick<AuditEventItem, "action" | "actor" | "details">,
	now: Date,
): Promise<boolean> {
	const { workspaceId, requestId } = reservation;
	const createdAt = now.toISOString();
	const auditEvent: AuditEventItem = {
		...keys.auditEvent(workspaceId, requestId),
		entity: "auditEvent",
		eventId: requestId,
		workspaceId,
		createdAt,
		...audit,
	};
	try {
		await transactWrite(store, [
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
						"SET availableMicroUsd = availableMicroUsd + :amount, reservedMicroUsd = reservedMicroUsd - :amount, updatedAt = :now",
					ConditionExpression: "attribute_exists(pk)",
					ExpressionAttributeValues: {
						":amount": reservation.amountMicroUsd,
						":now": createdAt,
					},
				},
			},
			{ Put: { TableName: store.tableName, Item: auditEvent } },
		]);
		return true;
	} catch (error) {
		if (conditionFailedAt(error, 0)) return false;
		throw error;
	}
}

async function forEachConcurrently<T>(
	items: readonly T[],
	work: (item: T) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const item = items[next++] as T;
			await work(item);
		}
	};
	const workers = Math.min(RELEASE_CONCURRENCY, items.length);
	await Promise.all(Array.from({ length: workers }, worker));
}
