/**
 * Audit events: one item per change to a workspace, its keys, its credit or
 * its purchase requests, written in the same transaction as the change.
 * Details never hold a key secret.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys, SORT_PREFIX } from "../../shared/table.ts";
import type { Store } from "./client.ts";
import { newAuditEventId } from "./ids.ts";
import type { AuditEventItem } from "./items.ts";
import { queryByUlid } from "./query.ts";
import { putNewItem, type TransactItem } from "./transact.ts";

export interface AuditInput {
	workspaceId: string;
	/** Dotted verb such as `apiKey.revoked` or `credit.toppedUp`. */
	action: string;
	/** Key id, user id or `admin-cli`. */
	actor: string;
	details: Record<string, unknown>;
	createdAt: string;
}

/** Builds an audit event and the transaction item that writes it. */
export function auditEventPut(
	store: Store,
	input: AuditInput,
): { item: AuditEventItem; put: TransactItem } {
	const eventId = newAuditEventId();
	const item: AuditEventItem = {
		...keys.auditEvent(input.workspaceId, eventId),
		entity: "auditEvent",
		eventId,
		workspaceId: input.workspaceId,
		action: input.action,
		actor: input.actor,
		details: input.details,
		createdAt: input.createdAt,
	};
	return {
		item,
		put: putNewItem(store, item),
	};
}

/**
 * Ids of audit events: bare ULIDs for account changes, the request id
 * (`req_<ulid>`) for a request's own record.
 */
export const AUDIT_ID_FAMILIES = ["", "req_"] as const;

/** Lists a workspace's audit events, newest first. */
export function listAuditEvents(
	store: Store,
	workspaceId: string,
	options: { limit?: number } = {},
): Promise<AuditEventItem[]> {
	return queryByUlid<AuditEventItem>(store, {
		pk: keys.workspace(workspaceId).pk,
		sortPrefix: SORT_PREFIX.audit,
		idFamilies: AUDIT_ID_FAMILIES,
		newestFirst: true,
		limit: options.limit,
	});
}

/** Gets one audit event, or `undefined` when there is none with that id. */
export async function getAuditEvent(
	store: Store,
	workspaceId: string,
	eventId: string,
): Promise<AuditEventItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.auditEvent(workspaceId, eventId),
		}),
	);
	return result.Item as AuditEventItem | undefined;
}
