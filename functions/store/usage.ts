/**
 * Usage events and daily rollups of a workspace, written by metering when a
 * request settles. A usage event's sort key is `USAGE#req_<ulid>`, so a
 * sort-key range over request ids is a time range.
 */
import { invalidRequest } from "../../shared/errors.ts";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import { ulidBoundsAt } from "./ids.ts";
import type { DailyRollupItem, UsageEventItem } from "./items.ts";
import { checkLimit, queryItems } from "./query.ts";

const REQUEST_ID_PREFIX = "req_";

export interface UsageQuery {
	/** Only this key's requests. */
	keyId?: string;
	/** Requests made at or after this time. */
	from?: Date;
	/** Requests made at or before this time. */
	to?: Date;
	/** Maximum number of events, 1 to 1000; absent reads every match. */
	limit?: number;
	/** Oldest first instead of the default newest first. */
	oldestFirst?: boolean;
}

/**
 * Lists a workspace's usage events in request-time order, newest first by
 * default.
 *
 * @throws GatewayError (400) for an invalid time range or limit.
 */
export async function listUsageEvents(
	store: Store,
	workspaceId: string,
	query: UsageQuery = {},
): Promise<UsageEventItem[]> {
	const from = checkTime(query.from ?? new Date(0), "from");
	const to = checkTime(query.to ?? new Date(), "to");
	if (from > to) {
		throw invalidRequest(
			`Invalid time range: from ${from.toISOString()} is after to ${to.toISOString()}.`,
			"from",
		);
	}
	const prefix = SORT_PREFIX.usage + REQUEST_ID_PREFIX;

	return queryItems<UsageEventItem>(
		store,
		{
			KeyConditionExpression: "pk = :pk AND sk BETWEEN :first AND :last",
			ExpressionAttributeValues: {
				":pk": keys.workspace(workspaceId).pk,
				":first": prefix + ulidBoundsAt(from).first,
				":last": prefix + ulidBoundsAt(to).last,
				...(query.keyId ? { ":keyId": query.keyId } : {}),
			},
			...(query.keyId ? { FilterExpression: "keyId = :keyId" } : {}),
			ScanIndexForward: query.oldestFirst ?? false,
		},
		checkLimit(query.limit),
	);
}

export interface RollupQuery {
	/** First day, `yyyy-mm-dd` (UTC), inclusive. */
	fromDay?: string;
	/** Last day, `yyyy-mm-dd` (UTC), inclusive. */
	toDay?: string;
	keyId?: string;
}

/**
 * Lists daily spend per key, oldest day first.
 *
 * @throws GatewayError (400) for a day that is not `yyyy-mm-dd`.
 */
export async function listDailyRollups(
	store: Store,
	workspaceId: string,
	query: RollupQuery = {},
): Promise<DailyRollupItem[]> {
	const fromDay = checkDay(query.fromDay ?? "0000-01-01", "fromDay");
	const toDay = checkDay(query.toDay ?? "9999-12-31", "toDay");

	return queryItems<DailyRollupItem>(store, {
		KeyConditionExpression: "pk = :pk AND sk BETWEEN :first AND :last",
		ExpressionAttributeValues: {
			":pk": keys.workspace(workspaceId).pk,
			":first": `${SORT_PREFIX.day}${fromDay}`,
			// "~" sorts after every character of a key id.
			":last": `${SORT_PREFIX.day}${toDay}#~`,
			...(query.keyId ? { ":keyId": query.keyId } : {}),
		},
		...(query.keyId ? { FilterExpression: "keyId = :keyId" } : {}),
	});
}

function checkTime(value: Date, field: string): Date {
	if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
		throw invalidRequest(
			`Invalid ${field}: use an ISO 8601 time such as 2026-01-31T00:00:00Z.`,
			field,
		);
	}
	return value;
}

function checkDay(value: string, field: string): string {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
		throw invalidRequest(
			`Invalid ${field} "${value}": use a UTC day as yyyy-mm-dd.`,
			field,
		);
	}
	return value;
}
