/**
 * Test helpers for storage tests. They use the DynamoDB Local started by the
 * global setup (`DYNAMODB_ENDPOINT`, `TABLE_NAME`). Every workspace gets a
 * fresh ULID id, so test files running in parallel never share data.
 */
import { expect, inject } from "vitest";
import { createStore, type Store } from "../../functions/store/client.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import type {
	ApiKeyItem,
	WorkspaceItem,
	WorkspacePolicy,
} from "../../functions/store/items.ts";
import { listLedgerEntries } from "../../functions/store/ledger.ts";
import type { SettleInput } from "../../functions/store/metering.ts";
import { createWorkspace } from "../../functions/store/workspaces.ts";
import { createTable } from "../../infra/local/create-table.ts";
import { localDynamoDBClient } from "../../infra/local/dynamodb-local.ts";
import { parseUsd } from "../../shared/money.ts";

/** Creates a store for the test table in the run's DynamoDB Local. */
export function testStore(): Store {
	return createStore({
		tableName: inject("tableName"),
		endpoint: inject("dynamodbEndpoint"),
	});
}

/**
 * Returns a fresh table name, `gag-<purpose>-<ulid>`, for a test file or test
 * that must not share the run's table: one that scans or reconciles a whole
 * table, or tampers with items.
 */
export function isolatedTableName(purpose: string): string {
	return `gag-${purpose}-${newRequestId().toLowerCase()}`;
}

/** Creates a table in the run's DynamoDB Local and returns a store for it. */
export async function createTestTable(tableName: string): Promise<Store> {
	const endpoint = inject("dynamodbEndpoint");
	const client = localDynamoDBClient(endpoint);
	try {
		await createTable(client, tableName);
	} finally {
		client.destroy();
	}
	return createStore({ tableName, endpoint });
}

/** Creates a fresh table named `gag-<purpose>-<ulid>` and a store for it. */
export function isolatedStore(purpose: string): Promise<Store> {
	return createTestTable(isolatedTableName(purpose));
}

export interface NewWorkspaceOptions {
	/** Opening credit in USD, such as "10" or "0.25"; defaults to $10. */
	creditUsd?: string;
	cell?: string;
	name?: string;
	policy?: WorkspacePolicy;
}

/** Creates a workspace with opening credit for one test. */
export function newWorkspace(
	store: Store,
	options: NewWorkspaceOptions = {},
): Promise<WorkspaceItem> {
	return createWorkspace(store, {
		name: options.name ?? "Test workspace",
		cell: options.cell ?? "sg",
		creditMicroUsd: parseUsd(options.creditUsd ?? "10"),
		actor: "test",
		...(options.policy ? { policy: options.policy } : {}),
	});
}

/**
 * Asserts the ledger invariant of a workspace: available plus reserved credit
 * equals the sum of all ledger entries, and neither part is negative.
 */
export async function expectLedgerReconciles(
	store: Store,
	workspaceId: string,
): Promise<void> {
	const balance = await getBalance(store, workspaceId);
	const entries = await listLedgerEntries(store, workspaceId);
	const ledgerSum = entries.reduce(
		(sum, entry) => sum + entry.amountMicroUsd,
		0,
	);

	expect(balance, `balance of ${workspaceId}`).toBeDefined();
	expect(
		(balance?.availableMicroUsd ?? 0) + (balance?.reservedMicroUsd ?? 0),
		"available + reserved must equal the ledger sum",
	).toBe(ledgerSum);
	expect(balance?.availableMicroUsd).toBeGreaterThanOrEqual(0);
	expect(balance?.reservedMicroUsd).toBeGreaterThanOrEqual(0);
}

/**
 * Builds the settlement of a completed, non-streamed `sim-sg/gpt-4o-mini`
 * request: 10 prompt and 20 completion tokens, charged `chargeMicroUsd`, at
 * a provider cost of half the charge.
 */
export function settleInput(
	key: ApiKeyItem,
	reservation: SettleInput["reservation"],
	chargeMicroUsd: number,
): SettleInput {
	return {
		reservation,
		keyHash: key.keyHash,
		keyHasBudget: key.budgetMicroUsd !== undefined,
		providerId: "sim-sg",
		routeId: "sim-sg/gpt-4o-mini",
		stream: false,
		status: "completed",
		promptTokens: 10,
		cachedPromptTokens: 0,
		completionTokens: 20,
		reasoningTokens: 0,
		chargeMicroUsd,
		providerCostMicroUsd: Math.floor(chargeMicroUsd / 2),
		latencyMs: 5,
		attempts: 1,
		sellerOfRecord: "Test seller",
		audit: { action: "chat.request", actor: key.keyId, details: {} },
	};
}
