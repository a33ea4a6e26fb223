/**
 * Starts the gateway in the test process: the provider simulator and the
 * local API Gateway server in front of the deployed handler modules, on the
 * run's DynamoDB Local. Each test file runs in its own worker, so module
 * caches (keys, catalog, provider health) start empty per file.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { resetProviderHealth } from "../../functions/providers/health.ts";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import type {
	ApiKeyItem,
	RateLimit,
	WorkspaceItem,
	WorkspacePolicy,
} from "../../functions/store/items.ts";
import { queryItems } from "../../functions/store/query.ts";
import { type LocalServer, startServer } from "../../infra/local/server.ts";
import {
	type Simulator,
	startSimulator,
} from "../../infra/local/simulator/server.ts";
import type { KeyScope } from "../../shared/api-key.ts";
import { parseUsd } from "../../shared/money.ts";
import { keys } from "../../shared/table.ts";
import { expectLedgerReconciles, newWorkspace, testStore } from "./store.ts";

export interface TestGateway {
	baseUrl: string;
	simulator: Simulator;
	store: Store;
	stop(): Promise<void>;
}

/** Starts simulator and server for one cell with the local catalog. */
export async function startGateway(
	options: { cell?: string } = {},
): Promise<TestGateway> {
	const simulator = await startSimulator();
	process.env.CELL_ID = options.cell ?? "global";
	process.env.CATALOG_FILE = "infra/catalog/local.json";
	process.env.SIMULATOR_URL = simulator.url;
	process.env.POWERTOOLS_LOG_LEVEL =
		process.env.POWERTOOLS_LOG_LEVEL ?? "ERROR";
	const server: LocalServer = await startServer({
		port: 0,
		cell: process.env.CELL_ID,
	});
	return {
		baseUrl: `${server.url}/v1`,
		simulator,
		store: testStore(),
		async stop() {
			await server.stop(1_000);
			await simulator.stop();
		},
	};
}

export interface TestKeyOptions {
	creditUsd?: string;
	budgetUsd?: string;
	scopes?: KeyScope[];
	allowedModels?: string[];
	policy?: WorkspacePolicy;
	rateLimit?: RateLimit;
	cell?: string;
}

export interface TestKey {
	key: string;
	item: ApiKeyItem;
	workspace: WorkspaceItem;
}

/** Creates a workspace with credit and one key in it. */
export async function createTestKey(
	store: Store,
	options: TestKeyOptions = {},
): Promise<TestKey> {
	const cell = options.cell ?? "global";
	const workspace = await newWorkspace(store, {
		creditUsd: options.creditUsd ?? "10",
		cell,
		...(options.policy ? { policy: options.policy } : {}),
	});
	const { key, item } = await createApiKey(store, {
		workspaceId: workspace.workspaceId,
		cell,
		name: "test key",
		scopes: options.scopes ?? ["chat.completions", "models.read", "usage.read"],
		actor: "test",
		...(options.budgetUsd
			? { budgetMicroUsd: parseUsd(options.budgetUsd) }
			: {}),
		...(options.allowedModels ? { allowedModels: options.allowedModels } : {}),
		...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
	});
	return { key, item, workspace };
}

/** Reads a key item as stored now. */
export async function readKey(
	store: Store,
	item: ApiKeyItem,
): Promise<ApiKeyItem> {
	const result = await store.doc.send(
		new GetCommand({
			TableName: store.tableName,
			Key: keys.apiKey(item.keyHash),
			ConsistentRead: true,
		}),
	);
	return result.Item as ApiKeyItem;
}

/** Asserts that a workspace has no open reservation left. */
export async function expectNoOpenReservations(
	store: Store,
	workspaceId: string,
): Promise<void> {
	const open = await queryItems(store, {
		KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
		ExpressionAttributeValues: {
			":pk": keys.workspace(workspaceId).pk,
			":prefix": "RESV#",
		},
		ConsistentRead: true,
	});
	expect(open, "open reservations").toEqual([]);
}

export interface ChatTestContext {
	/** The running gateway; available inside tests and hooks. */
	readonly gateway: TestGateway;
	/** Creates a workspace and key whose ledger is checked after the test. */
	newKey(options?: TestKeyOptions): Promise<TestKey>;
	/** An OpenAI SDK client for the gateway that never retries. */
	client(key: string): OpenAI;
}

/**
 * Starts the gateway for one test file and, after every test, checks that
 * each workspace the test created has no open reservation and a ledger that
 * reconciles, then clears simulator faults, its request log and provider
 * health.
 */
export function useChatGateway(): ChatTestContext {
	let current: TestGateway | undefined;
	const workspaces: string[] = [];
	const running = (): TestGateway => {
		if (!current) throw new Error("The test gateway has not started yet.");
		return current;
	};

	beforeAll(async () => {
		current = await startGateway();
	});
	afterAll(async () => {
		await current?.stop();
	});
	afterEach(async () => {
		const gateway = running();
		for (const workspaceId of workspaces.splice(0)) {
			await expectNoOpenReservations(gateway.store, workspaceId);
			await expectLedgerReconciles(gateway.store, workspaceId);
		}
		gateway.simulator.clearFaults();
		gateway.simulator.clearRequests();
		resetProviderHealth();
	});

	return {
		get gateway() {
			return running();
		},
		async newKey(options = {}) {
			const created = await createTestKey(running().store, options);
			workspaces.push(created.workspace.workspaceId);
			return created;
		},
		client(key) {
			return new OpenAI({
				baseURL: running().baseUrl,
				apiKey: key,
				maxRetries: 0,
			});
		},
	};
}
