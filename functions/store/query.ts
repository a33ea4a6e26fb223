/**
 * Query helper that follows pagination, so list functions return every
 * matching item up to a limit instead of one 1 MB page.
 */
import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { invalidRequest } from "../../shared/errors.ts";
import type { Store } from "./client.ts";

/** Query input without the table name, which comes from the store. */
export type QueryInput = Omit<QueryCommandInput, "TableName" | "Limit">;

/**
 * Runs a query page by page until `limit` items are read or the results end.
 * Without a limit it reads every page.
 */
export async function queryItems<T>(
	store: Store,
	input: QueryInput,
	limit?: number,
): Promise<T[]> {
	const items: T[] = [];
	let startKey: QueryCommandInput["ExclusiveStartKey"];
	do {
		const page = await store.doc.send(
			new QueryCommand({
				...input,
				TableName: store.tableName,
				ExclusiveStartKey: startKey,
				...(limit === undefined ? {} : { Limit: limit - items.length }),
			}),
		);
		items.push(...((page.Items ?? []) as T[]));
		startKey = page.LastEvaluatedKey;
	} while (startKey && (limit === undefined || items.length < limit));
	return items;
}

/** Largest page a list function returns. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Checks a list limit: absent, or an integer from 1 to 1000.
 *
 * @throws GatewayError (400) naming the value.
 */
export function checkLimit(limit: number | undefined): number | undefined {
	if (limit === undefined) return undefined;
	if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
		throw invalidRequest(
			`Invalid limit ${limit}: use an integer from 1 to ${MAX_LIST_LIMIT}.`,
			"limit",
		);
	}
	return limit;
}

const ULID_LENGTH = 26;
const MIN_ULID = "0".repeat(ULID_LENGTH);
const MAX_ULID = `7${"Z".repeat(ULID_LENGTH - 1)}`;

export interface TimeOrderedQuery {
	pk: string;
	/** Entity prefix of the sort key, such as `LEDGER#`. */
	sortPrefix: string;
	/**
	 * Id families stored under the prefix: `""` for bare ULIDs, or a type
	 * prefix such as `req_`. Every id ends in a ULID.
	 */
	idFamilies: readonly string[];
	newestFirst: boolean;
	limit?: number;
}

/**
 * Lists items whose ids end in a ULID in creation order, although ids of
 * different families (top-ups use bare ULIDs, charges use `req_<ulid>`) do
 * not sort together. Each family is read in sort-key order up to the limit
 * and the results are merged on the ULID.
 */
export async function queryByUlid<T extends { sk: string }>(
	store: Store,
	query: TimeOrderedQuery,
): Promise<T[]> {
	const limit = checkLimit(query.limit);
	const families = await Promise.all(
		query.idFamilies.map((family) =>
			queryItems<T>(
				store,
				{
					KeyConditionExpression:
						family === ""
							? "pk = :pk AND sk BETWEEN :first AND :last"
							: "pk = :pk AND begins_with(sk, :first)",
					ExpressionAttributeValues: {
						":pk": query.pk,
						...(family === ""
							? {
									":first": query.sortPrefix + MIN_ULID,
									":last": query.sortPrefix + MAX_ULID,
								}
							: { ":first": query.sortPrefix + family }),
					},
					ScanIndexForward: !query.newestFirst,
				},
				limit,
			),
		),
	);

	const direction = query.newestFirst ? -1 : 1;
	const merged = families.flat().sort((a, b) => {
		const left = a.sk.slice(-ULID_LENGTH);
		const right = b.sk.slice(-ULID_LENGTH);
		if (left === right) return 0;
		return left < right ? -direction : direction;
	});
	return limit === undefined ? merged : merged.slice(0, limit);
}
