/**
 * Workspaces: the customer account that owns one credit balance, many API
 * keys and a provider policy. A workspace lives in its home cell only.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
	type CellConfig,
	getCell,
	PROCESSING_REGIONS,
} from "../../infra/cells.ts";
import { invalidRequest, notFound } from "../../shared/errors.ts";
import { keys } from "../../shared/table.ts";
import { auditEventPut } from "./audit.ts";
import type { Store } from "./client.ts";
import { creditRecords } from "./credit.ts";
import { newWorkspaceId } from "./ids.ts";
import type { BalanceItem, WorkspaceItem, WorkspacePolicy } from "./items.ts";
import { requireNonNegativeMicroUsd } from "./money-input.ts";
import { conditionFailedAt, transactWrite } from "./transact.ts";

const MAX_NAME_LENGTH = 100;

export interface CreateWorkspaceInput {
	name: string;
	/** Home cell id from `infra/cells.ts`. */
	cell: string;
	/** Opening credit in micro-USD; 0 creates an empty balance. */
	creditMicroUsd: number;
	/** Defaults to every region the cell routes to, any retention, metadata logging. */
	policy?: WorkspacePolicy;
	actor: string;
}

/**
 * Creates a workspace with its balance. With opening credit it also writes a
 * top-up ledger entry and a purchase receipt. The audit event and every item
 * go in one transaction.
 *
 * @throws GatewayError 400 for an invalid name, cell, amount or policy.
 */
export async function createWorkspace(
	store: Store,
	input: CreateWorkspaceInput,
): Promise<WorkspaceItem> {
	const name = checkName(input.name);
	const cell = requireCell(input.cell);
	const creditMicroUsd = requireNonNegativeMicroUsd(
		input.creditMicroUsd,
		"creditMicroUsd",
	);
	const policy = checkPolicy(input.policy ?? defaultPolicy(cell), cell);
	const now = new Date().toISOString();
	const workspaceId = newWorkspaceId();

	const workspace: WorkspaceItem = {
		...keys.workspace(workspaceId),
		sk: "META",
		entity: "workspace",
		workspaceId,
		name,
		cell: cell.id,
		policy,
		createdAt: now,
	};
	const balance: BalanceItem = {
		...keys.balance(workspaceId),
		sk: "BALANCE",
		entity: "balance",
		workspaceId,
		availableMicroUsd: creditMicroUsd,
		reservedMicroUsd: 0,
		updatedAt: now,
	};
	const credit =
		creditMicroUsd > 0
			? creditRecords(store, {
					workspaceId,
					amountMicroUsd: creditMicroUsd,
					note: "Opening credit",
					createdAt: now,
				})
			: undefined;
	const audit = auditEventPut(store, {
		workspaceId,
		action: "workspace.created",
		actor: input.actor,
		details: {
			name,
			cell: cell.id,
			creditMicroUsd,
			...(credit ? { receiptId: credit.receipt.receiptId } : {}),
		},
		createdAt: now,
	});

	await transactWrite(store, [
		{ Put: newItem(store, workspace) },
		{ Put: newItem(store, balance) },
		...(credit?.items ?? []),
		audit.put,
	]);
	return workspace;
}

/** Gets a workspace, or `undefined` when there is none with that id. */
export async function getWorkspace(
	store: Store,
	workspaceId: string,
): Promise<WorkspaceItem | undefined> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.workspace(workspaceId),
		}),
	);
	return result.Item as WorkspaceItem | undefined;
}

/**
 * Replaces a workspace's provider policy and records the old and new policy
 * in an audit event.
 *
 * @throws GatewayError 400 for a policy the cell cannot honor, 404 when the
 *   workspace does not exist.
 */
export async function updatePolicy(
	store: Store,
	input: { workspaceId: string; policy: WorkspacePolicy; actor: string },
): Promise<WorkspaceItem> {
	const current = await getWorkspace(store, input.workspaceId);
	if (!current) throw workspaceNotFound(input.workspaceId);
	const policy = checkPolicy(input.policy, requireCell(current.cell));
	const now = new Date().toISOString();
	const audit = auditEventPut(store, {
		workspaceId: input.workspaceId,
		action: "workspace.policyUpdated",
		actor: input.actor,
		details: { before: current.policy, after: policy },
		createdAt: now,
	});

	try {
		await transactWrite(store, [
			{
				Update: {
					TableName: store.tableName,
					Key: keys.workspace(input.workspaceId),
					UpdateExpression: "SET policy = :policy",
					ConditionExpression: "attribute_exists(pk)",
					ExpressionAttributeValues: { ":policy": policy },
				},
			},
			audit.put,
		]);
	} catch (error) {
		if (conditionFailedAt(error, 0)) throw workspaceNotFound(input.workspaceId);
		throw error;
	}
	return { ...current, policy };
}

/** Builds the policy of a new workspace: every region its cell routes to. */
export function defaultPolicy(cell: CellConfig): WorkspacePolicy {
	return {
		allowedRegions: [...cell.routableRegions],
		retention: "any",
		logging: "metadata",
	};
}

/** 404 for an unknown workspace id. */
export function workspaceNotFound(workspaceId: string) {
	return notFound(
		`Workspace ${workspaceId} was not found. Check the workspace id.`,
		"workspace_not_found",
		"workspaceId",
	);
}

function newItem(store: Store, item: WorkspaceItem | BalanceItem) {
	return {
		TableName: store.tableName,
		Item: item,
		ConditionExpression: "attribute_not_exists(pk)",
	};
}

function checkName(value: string): string {
	const name = typeof value === "string" ? value.trim() : "";
	if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
		throw invalidRequest(
			`Invalid workspace name "${String(value)}": use 1 to ${MAX_NAME_LENGTH} characters.`,
			"name",
		);
	}
	return name;
}

function requireCell(cellId: string): CellConfig {
	try {
		return getCell(cellId);
	} catch (error) {
		throw invalidRequest((error as Error).message, "cell", "unknown_cell");
	}
}

/**
 * Checks a policy against the cell: it may narrow the cell's processing
 * regions but never widen them.
 */
function checkPolicy(
	policy: WorkspacePolicy,
	cell: CellConfig,
): WorkspacePolicy {
	const regions = policy.allowedRegions;
	if (!Array.isArray(regions) || regions.length === 0) {
		throw invalidRequest(
			`Invalid policy: allowedRegions is empty. Allow at least one of ${cell.routableRegions.join(", ")}.`,
			"policy.allowedRegions",
		);
	}
	for (const region of regions) {
		if (!(PROCESSING_REGIONS as readonly string[]).includes(region)) {
			throw invalidRequest(
				`Invalid policy: unknown processing region "${region}". Known regions: ${PROCESSING_REGIONS.join(", ")}.`,
				"policy.allowedRegions",
			);
		}
		if (!(cell.routableRegions as readonly string[]).includes(region)) {
			throw invalidRequest(
				`Invalid policy: cell ${cell.id} does not route to region ${region}. Allowed in this cell: ${cell.routableRegions.join(", ")}.`,
				"policy.allowedRegions",
			);
		}
	}
	if (policy.retention !== "none" && policy.retention !== "any") {
		throw invalidRequest(
			`Invalid policy: retention "${String(policy.retention)}" must be "none" or "any".`,
			"policy.retention",
		);
	}
	if (policy.logging !== "metadata" && policy.logging !== "full") {
		throw invalidRequest(
			`Invalid policy: logging "${String(policy.logging)}" must be "metadata" or "full".`,
			"policy.logging",
		);
	}
	checkIdList(policy.allowedProviders, "policy.allowedProviders");
	checkIdList(policy.allowedModels, "policy.allowedModels");

	return {
		allowedRegions: [...new Set(regions)],
		retention: policy.retention,
		logging: policy.logging,
		...(policy.allowedProviders
			? { allowedProviders: [...policy.allowedProviders] }
			: {}),
		...(policy.allowedModels
			? { allowedModels: [...policy.allowedModels] }
			: {}),
	};
}

function checkIdList(value: string[] | undefined, field: string): void {
	if (value === undefined) return;
	const valid =
		Array.isArray(value) &&
		value.every((id) => typeof id === "string" && id.trim().length > 0);
	if (!valid) {
		throw invalidRequest(
			`Invalid ${field}: use a list of non-empty ids, or leave it out to allow all.`,
			field,
		);
	}
}
