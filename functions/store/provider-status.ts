/**
 * Run-time provider status, set by operators: `PROVIDER#<id>` / `META`
 * overrides the status of every route of that provider in the shipped
 * catalog. The functions read it through `loadCatalog`, which caches it for
 * about 10 seconds, so routing follows a change within seconds.
 *
 * No workspace owns a provider, so a status change is audited in the
 * provider's own partition (`PROVIDER#<id>` / `AUDIT#<ulid>`), written in
 * the same transaction as the status. The catalog reads only the `META`
 * item, so these audit events never reach routing.
 */
import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { catalogRouteSchema } from "../../shared/catalog.ts";
import { invalidRequest } from "../../shared/errors.ts";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { ProviderStatusItem } from "../catalog/load.ts";
import type { Store } from "./client.ts";
import { newAuditEventId } from "./ids.ts";
import { queryByUlid } from "./query.ts";
import { conditionFailedAt, putNewItem, transactWrite } from "./transact.ts";

export type ProviderStatus = ProviderStatusItem["status"];

/** Audit action of a provider status change. */
export const PROVIDER_STATUS_CHANGED_ACTION = "provider.statusChanged";

/** Stored provider status item: the catalog's fields plus keys. */
export interface StoredProviderStatusItem extends ProviderStatusItem {
	pk: string;
	sk: "META";
	entity: "providerStatus";
	/** Number of changes so far; each write is conditioned on the previous value. */
	version: number;
}

/** Audit event of a provider status change, in the provider's partition. */
export interface ProviderAuditEventItem {
	pk: string;
	sk: string;
	entity: "providerAuditEvent";
	eventId: string;
	providerId: string;
	action: string;
	/** Operator name or `admin-cli`, never a secret. */
	actor: string;
	details: { before: ProviderStatus | null; after: ProviderStatus };
	createdAt: string;
}

export interface SetProviderStatusInput {
	providerId: string;
	status: ProviderStatus;
	actor: string;
}

export interface SetProviderStatusResult {
	item: ProviderStatusItem;
	/** False when the provider already had this status, so nothing was written. */
	changed: boolean;
}

const MAX_ATTEMPTS = 5;

/**
 * Sets a provider's run-time status and writes an audit event of the change
 * in one transaction. Setting the status a provider already has writes
 * nothing. Any catalog id is accepted: whether the provider is in this
 * cell's catalog is the caller's check.
 *
 * @throws GatewayError 400 for an invalid provider id, status or actor.
 */
export async function setProviderStatus(
	store: Store,
	input: SetProviderStatusInput,
): Promise<SetProviderStatusResult> {
	const providerId = checkProviderId(input.providerId);
	const status = checkStatus(input.status);
	const actor = checkActor(input.actor);

	// Concurrent changes are serialized on the version: a write conditioned
	// on the version read fails when another change got in between, and is
	// retried.
	for (let attempt = 1; ; attempt++) {
		const current = await readStoredStatus(store, providerId);
		if (current?.status === status) {
			return { item: withoutKeys(current), changed: false };
		}

		const now = new Date().toISOString();
		const item: StoredProviderStatusItem = {
			...keys.provider(providerId),
			sk: "META",
			entity: "providerStatus",
			providerId,
			status,
			updatedAt: now,
			updatedBy: actor,
			version: (current?.version ?? 0) + 1,
		};
		const eventId = newAuditEventId();
		const audit: ProviderAuditEventItem = {
			pk: keys.provider(providerId).pk,
			sk: SORT_PREFIX.audit + eventId,
			entity: "providerAuditEvent",
			eventId,
			providerId,
			action: PROVIDER_STATUS_CHANGED_ACTION,
			actor,
			details: { before: current?.status ?? null, after: status },
			createdAt: now,
		};
		try {
			await transactWrite(store, [
				{
					Put: {
						TableName: store.tableName,
						Item: item,
						ConditionExpression: current
							? "version = :previous"
							: "attribute_not_exists(pk)",
						...(current
							? {
									ExpressionAttributeValues: { ":previous": current.version },
								}
							: {}),
					},
				},
				putNewItem(store, audit),
			]);
			return { item: withoutKeys(item), changed: true };
		} catch (error) {
			if (conditionFailedAt(error, 0) && attempt < MAX_ATTEMPTS) continue;
			throw error;
		}
	}
}

/** Gets a provider's run-time status, or `undefined` when none was ever set. */
export async function getProviderStatus(
	store: Store,
	providerId: string,
): Promise<ProviderStatusItem | undefined> {
	const item = await readStoredStatus(store, providerId);
	return item ? withoutKeys(item) : undefined;
}

async function readStoredStatus(
	store: Store,
	providerId: string,
): Promise<StoredProviderStatusItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.provider(providerId),
			ConsistentRead: true,
		}),
	);
	return result.Item as StoredProviderStatusItem | undefined;
}

/**
 * Lists every run-time provider status in the table, sorted by provider id.
 * Providers whose status was never set are absent: they have the catalog's
 * status. Uses a filtered Scan of the whole table, which suits an operator
 * command but not a request path.
 */
export async function listProviderStatuses(
	store: Store,
): Promise<ProviderStatusItem[]> {
	const items: ProviderStatusItem[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await store.doc.send(
			new ScanCommand({
				TableName: store.tableName,
				FilterExpression: "begins_with(pk, :prefix) AND sk = :meta",
				ExpressionAttributeValues: {
					":prefix": keys.provider("").pk,
					":meta": "META",
				},
				ExclusiveStartKey: startKey,
			}),
		);
		for (const item of page.Items ?? []) {
			items.push(withoutKeys(item as StoredProviderStatusItem));
		}
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return items.sort((a, b) => a.providerId.localeCompare(b.providerId));
}

/** Lists a provider's status changes, newest first. */
export function listProviderStatusChanges(
	store: Store,
	providerId: string,
	options: { limit?: number } = {},
): Promise<ProviderAuditEventItem[]> {
	return queryByUlid<ProviderAuditEventItem>(store, {
		pk: keys.provider(providerId).pk,
		sortPrefix: SORT_PREFIX.audit,
		idFamilies: [""],
		newestFirst: true,
		limit: options.limit,
	});
}

function withoutKeys(item: StoredProviderStatusItem): ProviderStatusItem {
	return {
		providerId: item.providerId,
		status: item.status,
		updatedAt: item.updatedAt,
		updatedBy: item.updatedBy,
	};
}

function checkProviderId(value: string): string {
	if (!catalogRouteSchema.shape.providerId.safeParse(value).success) {
		throw invalidRequest(
			`Invalid provider id "${String(value)}": use 2 to 41 lowercase letters, digits or hyphens, as in the catalog.`,
			"providerId",
		);
	}
	return value;
}

function checkStatus(value: string): ProviderStatus {
	if (value !== "active" && value !== "inactive") {
		throw invalidRequest(
			`Invalid provider status "${String(value)}": use "active" or "inactive".`,
			"status",
		);
	}
	return value;
}

function checkActor(value: string): string {
	const actor = typeof value === "string" ? value.trim() : "";
	if (actor.length === 0 || actor.length > 100) {
		throw invalidRequest(
			"Invalid actor: name who makes the change in 1 to 100 characters.",
			"actor",
		);
	}
	return actor;
}
