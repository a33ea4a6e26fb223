/**
 * The single DynamoDB table of a cell, defined once. The CDK stack, the
 * DynamoDB Local setup and the store code all read this module.
 *
 * Access patterns:
 *
 * | pattern                                   | how                                                   |
 * | ----------------------------------------- | ----------------------------------------------------- |
 * | authenticate a key by its hash            | GetItem `KEY#<sha256>` / `KEY`                        |
 * | get a key by id (revoke, edit)            | Query gsi2 `KEYID#<keyId>`                            |
 * | list a workspace's keys                   | Query gsi1 `WS#<wsId>#KEYS`                           |
 * | workspace, balance                        | GetItem `WS#<wsId>` / `META`, `BALANCE`               |
 * | usage events by time (optionally one key) | Query `WS#<wsId>`, sk between `USAGE#<ulid>` bounds   |
 * | ledger, receipts, purchase requests        | Query `WS#<wsId>`, sk begins_with the entity prefix   |
 * | one receipt, one request's audit record   | GetItem `WS#<wsId>` / `RECEIPT#<id>`, `AUDIT#<id>`    |
 * | reservation of a request                  | GetItem `WS#<wsId>` / `RESV#<requestId>`              |
 * | reservations past expiry (reconciler)     | Query gsi1 `RESV#OPEN#<shard>`, sk < now              |
 * | daily spend per key                       | Query `WS#<wsId>`, sk begins_with `DAY#`              |
 * | idempotency record                        | GetItem `WS#<wsId>` / `IDEM#<keyId>#<idempotencyKey>` |
 * | open purchase requests (operators)        | Query gsi1 `PURCHASES#<status>`                       |
 * | provider status, model routes             | GetItem / Query `PROVIDER#<id>`                       |
 * | rate-limit window of a key                | GetItem `RATE#<keyId>` / `<window start>`             |
 * | portal session                            | GetItem `SESSION#<sha256>` / `SESSION`                |
 */

export const PARTITION_KEY = "pk";
export const SORT_KEY = "sk";
export const TTL_ATTRIBUTE = "expiresAtEpochSeconds";
export const BILLING_MODE = "PAY_PER_REQUEST" as const;

export interface GlobalIndexDefinition {
	indexName: string;
	partitionKey: string;
	sortKey: string;
}

/** Global secondary indexes; both project all attributes. */
export const GLOBAL_INDEXES: readonly GlobalIndexDefinition[] = [
	{ indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
	{ indexName: "gsi2", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
];

/** Every key attribute is a string. */
export const KEY_ATTRIBUTES = [
	PARTITION_KEY,
	SORT_KEY,
	...GLOBAL_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
];

/** Number of gsi1 partitions that open reservations are spread over. */
export const RESERVATION_SHARDS = 4;

/** Key builders: the only place that spells an entity prefix. */
export const keys = {
	workspace: (workspaceId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: "META",
	}),
	balance: (workspaceId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: "BALANCE",
	}),
	apiKey: (keyHash: string) => ({ pk: `KEY#${keyHash}`, sk: "KEY" }),
	apiKeyById: (keyId: string) => ({
		gsi2pk: `KEYID#${keyId}`,
		gsi2sk: "KEY",
	}),
	apiKeyInWorkspace: (workspaceId: string, keyId: string) => ({
		gsi1pk: `WS#${workspaceId}#KEYS`,
		gsi1sk: `KEY#${keyId}`,
	}),
	usageEvent: (workspaceId: string, requestId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `USAGE#${requestId}`,
	}),
	ledgerEntry: (workspaceId: string, entryId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `LEDGER#${entryId}`,
	}),
	receipt: (workspaceId: string, receiptId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `RECEIPT#${receiptId}`,
	}),
	reservation: (workspaceId: string, requestId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `RESV#${requestId}`,
	}),
	openReservation: (
		shard: number,
		expiresAtIso: string,
		requestId: string,
	) => ({
		gsi1pk: `RESV#OPEN#${shard}`,
		gsi1sk: `${expiresAtIso}#${requestId}`,
	}),
	auditEvent: (workspaceId: string, eventId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `AUDIT#${eventId}`,
	}),
	dailyRollup: (workspaceId: string, day: string, keyId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `DAY#${day}#KEY#${keyId}`,
	}),
	idempotency: (
		workspaceId: string,
		keyId: string,
		idempotencyKey: string,
	) => ({
		pk: `WS#${workspaceId}`,
		sk: `IDEM#${keyId}#${idempotencyKey}`,
	}),
	purchaseRequest: (workspaceId: string, purchaseId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `PURCHASE#${purchaseId}`,
	}),
	purchaseByStatus: (status: string, purchaseId: string) => ({
		gsi1pk: `PURCHASES#${status}`,
		gsi1sk: purchaseId,
	}),
	provider: (providerId: string) => ({
		pk: `PROVIDER#${providerId}`,
		sk: "META",
	}),
	modelRoute: (providerId: string, modelId: string) => ({
		pk: `PROVIDER#${providerId}`,
		sk: `MODEL#${modelId}`,
	}),
	rateWindow: (keyId: string, windowStart: string) => ({
		pk: `RATE#${keyId}`,
		sk: windowStart,
	}),
	session: (sessionHash: string) => ({
		pk: `SESSION#${sessionHash}`,
		sk: "SESSION",
	}),
} as const;

/** Sort-key prefixes for Query with begins_with. */
export const SORT_PREFIX = {
	usage: "USAGE#",
	ledger: "LEDGER#",
	receipt: "RECEIPT#",
	reservation: "RESV#",
	audit: "AUDIT#",
	day: "DAY#",
	purchase: "PURCHASE#",
	model: "MODEL#",
} as const;
