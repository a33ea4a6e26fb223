/**
 * Hundreds of concurrent chat requests, streamed and plain, across several
 * workspaces and keys whose balances and budget caps are far too small for
 * all of them, with provider faults injected on the way. Afterwards every
 * micro-dollar must be accounted for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { ApiKeyItem } from "../../functions/store/items.ts";
import { parseUsd } from "../../shared/money.ts";
import {
	createTestKey,
	startGateway,
	type TestGateway,
} from "../setup/gateway.ts";
import {
	expectWorkspaceAccounted,
	runConcurrently,
	seededRandom,
} from "./accounting.ts";

const SEED = Number(process.env.RESILIENCE_SEED ?? 20_261_204);
const REQUESTS = 360;
const CONCURRENCY = 48;
const MODELS = ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4"] as const;

interface Tenant {
	workspaceId: string;
	creditMicroUsd: number;
	keys: { secret: string; item: ApiKeyItem }[];
}

interface Outcome {
	workspaceId: string;
	keyId: string;
	status: number;
	stream: boolean;
	requestId: string | null;
	errorCode: string | null;
}

let gateway: TestGateway;

beforeAll(async () => {
	gateway = await startGateway();
});

afterAll(async () => {
	await gateway?.stop();
});

/** Creates a workspace with opening credit and keys with the given budgets. */
async function createTenant(
	creditUsd: string,
	budgetsUsd: (string | undefined)[],
): Promise<Tenant> {
	const [firstBudget, ...otherBudgets] = budgetsUsd;
	const first = await createTestKey(gateway.store, {
		creditUsd,
		...(firstBudget ? { budgetUsd: firstBudget } : {}),
	});
	const tenant: Tenant = {
		workspaceId: first.workspace.workspaceId,
		creditMicroUsd: parseUsd(creditUsd),
		keys: [{ secret: first.key, item: first.item }],
	};
	for (const [index, budgetUsd] of otherBudgets.entries()) {
		const created = await createApiKey(gateway.store, {
			workspaceId: tenant.workspaceId,
			cell: "global",
			name: `concurrency key ${index + 2}`,
			scopes: ["chat.completions", "usage.read"],
			actor: "test",
			...(budgetUsd ? { budgetMicroUsd: parseUsd(budgetUsd) } : {}),
		});
		tenant.keys.push({ secret: created.key, item: created.item });
	}
	return tenant;
}

function randomRequest(random: () => number) {
	const pick = <T>(values: readonly T[]) =>
		values[Math.floor(random() * values.length)] as T;
	const stream = random() < 0.5;
	const tokens = 10 + Math.floor(random() * 390);
	const maxTokens =
		random() < 0.4 ? undefined : 20 + Math.floor(random() * 480);
	return {
		model: pick(MODELS),
		messages: [
			{ role: "user", content: `Count to a few. [sim tokens=${tokens}]` },
		],
		...(stream ? { stream: true } : {}),
		...(stream && random() < 0.5
			? { stream_options: { include_usage: true } }
			: {}),
		...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
	};
}

async function send(
	tenant: Tenant,
	key: { secret: string; item: ApiKeyItem },
	body: ReturnType<typeof randomRequest>,
): Promise<Outcome> {
	const response = await fetch(`${gateway.baseUrl}/chat/completions`, {
		method: "POST",
		headers: {
			authorization: `Bearer ${key.secret}`,
			"content-type": "application/json",
		},
		body: JSON.stringify(body),
	});
	const text = await response.text();
	let errorCode: string | null = null;
	if (response.status !== 200) {
		errorCode = (JSON.parse(text) as { error: { code: string } }).error.code;
	}
	return {
		workspaceId: tenant.workspaceId,
		keyId: key.item.keyId,
		status: response.status,
		stream: body.stream === true,
		requestId: response.headers.get("x-request-id"),
		errorCode,
	};
}

describe("concurrent requests", () => {
	it("account for every micro-dollar", { timeout: 300_000 }, async () => {
		const tenants = [
			await createTenant("0.03", ["0.012", undefined]),
			await createTenant("0.015", ["0.006", "0.006", "0.006"]),
			await createTenant("0.05", ["0.004", undefined]),
		];
		const random = seededRandom(SEED);
		const plan = Array.from({ length: REQUESTS }, () => {
			const tenant = tenants[Math.floor(random() * tenants.length)] as Tenant;
			const key = tenant.keys[
				Math.floor(random() * tenant.keys.length)
			] as Tenant["keys"][number];
			return { tenant, key, body: randomRequest(random) };
		});
		gateway.simulator.setFault("sim-sg", {
			streamErrorAfterChunks: 3,
			count: 15,
		});
		gateway.simulator.setFault("sim-us", { status: 503, count: 20 });
		gateway.simulator.setFault("sim-anthropic", {
			resetAfterChunks: 2,
			count: 10,
		});

		const outcomes: Outcome[] = [];
		await runConcurrently(plan, CONCURRENCY, async (entry) => {
			outcomes.push(await send(entry.tenant, entry.key, entry.body));
		});

		const succeeded = outcomes.filter((outcome) => outcome.status === 200);
		const refused = outcomes.filter((outcome) => outcome.status === 402);
		const internalErrors = outcomes.filter(
			(outcome) => outcome.errorCode === "internal_error",
		);
		expect(outcomes).toHaveLength(REQUESTS);
		expect(internalErrors, "requests that failed inside the gateway").toEqual(
			[],
		);
		expect(succeeded.length, "requests served").toBeGreaterThan(0);
		expect(refused.length, "requests refused for credit").toBeGreaterThan(0);

		let chargedMicroUsd = 0;
		const usageStatuses = new Map<string, number>();
		for (const tenant of tenants) {
			const records = await expectWorkspaceAccounted(
				gateway.store,
				tenant.workspaceId,
				tenant.keys.map((key) => key.item),
			);
			const served = succeeded
				.filter((outcome) => outcome.workspaceId === tenant.workspaceId)
				.map((outcome) => outcome.requestId)
				.sort();
			const usageIds = records.usage.map((event) => event.requestId).sort();
			const charged = records.usage.reduce(
				(sum, event) => sum + event.chargeMicroUsd,
				0,
			);
			expect(usageIds, `usage events of ${tenant.workspaceId}`).toEqual(served);
			expect(
				(records.balance?.availableMicroUsd ?? 0) + charged,
				"available credit plus charges equals the opening credit",
			).toBe(tenant.creditMicroUsd);
			chargedMicroUsd += charged;
			for (const event of records.usage) {
				usageStatuses.set(
					event.status,
					(usageStatuses.get(event.status) ?? 0) + 1,
				);
			}
		}

		const count = (status: number) =>
			outcomes.filter((outcome) => outcome.status === status).length;
		const statuses = [...new Set(outcomes.map((outcome) => outcome.status))]
			.sort()
			.map((status) => `${status}: ${count(status)}`)
			.join(", ");
		console.log(
			[
				`concurrency: ${REQUESTS} requests (${outcomes.filter((o) => o.stream).length} streamed), ${CONCURRENCY} in flight, seed ${SEED}`,
				`  ${tenants.length} workspaces, ${tenants.reduce((n, t) => n + t.keys.length, 0)} keys; statuses ${statuses}`,
				`  charged ${chargedMicroUsd} micro-USD in ${succeeded.length} usage events (${[...usageStatuses].map(([status, n]) => `${status}: ${n}`).join(", ")})`,
				"  no balance below zero, no key over its cap, no open reservation, ledger reconciles",
			].join("\n"),
		);
	});
});
