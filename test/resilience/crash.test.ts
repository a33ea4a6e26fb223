/**
 * Crash safety: the gateway runs as a child process under a load of
 * concurrent streamed and plain requests and is killed with SIGKILL at
 * random moments, then restarted. After the last run the test waits past
 * the reservations' expiry and runs the reconciler. Nothing may be lost or
 * charged twice.
 *
 * The moments are random but replayable: the seed is printed, and
 * RESILIENCE_SEED=<seed> runs the same schedule. A kill waits for a random
 * number of streamed responses to have started, so each kill lands while
 * requests are between reserve and settle whatever the machine's speed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import type { ApiKeyItem } from "../../functions/store/items.ts";
import { reconcileReservations } from "../../functions/store/reconcile.ts";
import { parseUsd } from "../../shared/money.ts";
import { isolatedStore, newWorkspace } from "../setup/store.ts";
import {
	expectWorkspaceAccounted,
	readWorkspace,
	seededRandom,
} from "./accounting.ts";
import { type GatewayChild, startGatewayChild } from "./gateway-child.ts";

const SEED = Number(process.env.RESILIENCE_SEED ?? 7_340_119);
const KILLS = 4;
const CONCURRENCY = 24;
const FINAL_RUN_REQUESTS = 48;
const IDEMPOTENCY_KEYS = 30;
/** Longest wait for a round's kill point before killing anyway. */
const KILL_POINT_DEADLINE_MS = 30_000;
/** A request still open after this long counts as hung. */
const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Function timeout given to the gateway. Reservations expire 65 s after
 * they are made: this timeout plus the chat handler's 60 s margin.
 */
const FUNCTION_TIMEOUT_MS = 5_000;

interface Tenant {
	workspaceId: string;
	keys: { secret: string; item: ApiKeyItem }[];
}

interface Attempt {
	round: number;
	/** HTTP status; `cut` when a kill cut the request, `timeout` when it hung. */
	status: number | "cut" | "timeout";
	/** True once the response headers arrived. */
	started: boolean;
	requestId: string | null;
	idempotencyKey?: string;
	replayed: boolean;
}

let store: Store;
let gateway: GatewayChild | undefined;

beforeAll(async () => {
	store = await isolatedStore("crash");
});

afterAll(async () => {
	await gateway?.stop();
});

async function createTenant(
	creditUsd: string,
	budgetsUsd: (string | undefined)[],
): Promise<Tenant> {
	const workspace = await newWorkspace(store, { creditUsd, cell: "global" });
	const tenant: Tenant = { workspaceId: workspace.workspaceId, keys: [] };
	for (const [index, budgetUsd] of budgetsUsd.entries()) {
		const created = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: "global",
			name: `crash key ${index + 1}`,
			scopes: ["chat.completions", "usage.read"],
			actor: "test",
			...(budgetUsd ? { budgetMicroUsd: parseUsd(budgetUsd) } : {}),
		});
		tenant.keys.push({ secret: created.key, item: created.item });
	}
	return tenant;
}

/** Request plan of the whole test, drawn from the seed. */
class LoadPlan {
	private readonly random: () => number;
	private readonly tenants: Tenant[];
	/** Fixed body per idempotency key, so a retry sends the same request. */
	private readonly idempotentBodies = new Map<string, string>();

	constructor(seed: number, tenants: Tenant[]) {
		this.random = seededRandom(seed);
		this.tenants = tenants;
	}

	integer(min: number, max: number): number {
		return min + Math.floor(this.random() * (max - min + 1));
	}

	next(): {
		key: string;
		body: string;
		stream: boolean;
		idempotencyKey?: string;
	} {
		const tenant = this.tenants[
			this.integer(0, this.tenants.length - 1)
		] as Tenant;
		const key = tenant.keys[this.integer(0, tenant.keys.length - 1)]
			?.secret as string;
		if (this.random() < 0.3) {
			const idempotencyKey = `crash-${SEED}-${tenant.workspaceId}-${this.integer(1, IDEMPOTENCY_KEYS)}`;
			let body = this.idempotentBodies.get(idempotencyKey);
			if (!body) {
				body = this.body();
				this.idempotentBodies.set(idempotencyKey, body);
			}
			return {
				key: tenant.keys[0]?.secret as string,
				body,
				stream: body.includes('"stream":true'),
				idempotencyKey,
			};
		}
		const body = this.body();
		return { key, body, stream: body.includes('"stream":true') };
	}

	private body(): string {
		const stream = this.random() < 0.6;
		const tokens = this.integer(20, 300);
		const tps = this.integer(80, 400);
		return JSON.stringify({
			model: this.random() < 0.7 ? "gpt-4o-mini" : "claude-sonnet-4",
			messages: [
				{
					role: "user",
					content: `Tell a story. [sim tokens=${tokens} tps=${tps}]`,
				},
			],
			max_tokens: this.integer(300, 600),
			...(stream ? { stream: true } : {}),
		});
	}
}

async function sendOne(
	apiUrl: string,
	plan: ReturnType<LoadPlan["next"]>,
	round: number,
	onStreamStarted: () => void,
): Promise<Attempt> {
	const attempt: Attempt = {
		round,
		status: "cut",
		started: false,
		requestId: null,
		replayed: false,
		...(plan.idempotencyKey ? { idempotencyKey: plan.idempotencyKey } : {}),
	};
	try {
		const response = await fetch(`${apiUrl}/chat/completions`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${plan.key}`,
				"content-type": "application/json",
				...(plan.idempotencyKey
					? { "idempotency-key": plan.idempotencyKey }
					: {}),
			},
			body: plan.body,
			signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
		});
		attempt.started = true;
		attempt.requestId = response.headers.get("x-request-id");
		attempt.replayed = response.headers.get("idempotent-replayed") === "true";
		if (plan.stream && response.status === 200) onStreamStarted();
		const text = await response.text();
		// A stream cut by the kill can end without an error on the client
		// side, so only a stream that reached [DONE] or its error event counts.
		const complete =
			!plan.stream ||
			response.status !== 200 ||
			text.includes("data: [DONE]") ||
			text.includes('"error"');
		if (complete) attempt.status = response.status;
	} catch (error) {
		// The process was killed, so the connection was refused or cut,
		// unless the request timed out.
		if ((error as Error).name === "TimeoutError") attempt.status = "timeout";
	}
	return attempt;
}

/**
 * Drives load with CONCURRENCY workers until the returned `stop` is called
 * or `limit` requests were sent.
 */
async function driveLoad(
	gatewayChild: GatewayChild,
	plan: LoadPlan,
	round: number,
	options: { limit?: number; onStreamStarted?: () => void },
): Promise<{ attempts: Attempt[]; stop: () => void; done: Promise<void> }> {
	const attempts: Attempt[] = [];
	let stopped = false;
	let sent = 0;
	const worker = async () => {
		while (!stopped && sent < (options.limit ?? Number.POSITIVE_INFINITY)) {
			sent++;
			attempts.push(
				await sendOne(
					gatewayChild.apiUrl,
					plan.next(),
					round,
					options.onStreamStarted ?? (() => {}),
				),
			);
		}
	};
	const done = Promise.all(
		Array.from({ length: CONCURRENCY }, () => worker()),
	).then(() => {});
	return {
		attempts,
		stop: () => {
			stopped = true;
		},
		done,
	};
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until every open reservation of the workspaces has expired. */
async function waitPastExpiry(tenants: Tenant[]): Promise<number> {
	let latest = 0;
	let open = 0;
	for (const tenant of tenants) {
		const { reservations } = await readWorkspace(store, tenant.workspaceId);
		open += reservations.length;
		for (const reservation of reservations) {
			latest = Math.max(latest, Date.parse(reservation.expiresAt));
		}
	}
	const waitMs = latest - Date.now() + 1_000;
	if (waitMs > 0) await sleep(waitMs);
	return open;
}

describe("gateway crashes", () => {
	it("lose nothing and charge once", { timeout: 300_000 }, async () => {
		const tenants = [
			await createTenant("2", [undefined, "0.30"]),
			await createTenant("0.25", ["0.10", undefined]),
		];
		const plan = new LoadPlan(SEED + 1, tenants);
		const scheduleRandom = seededRandom(SEED);
		const killPoints = Array.from({ length: KILLS }, () => ({
			streams: 3 + Math.floor(scheduleRandom() * 28),
			delayMs: Math.floor(scheduleRandom() * 301),
		}));
		const schedule = killPoints.map(
			(point) => `after ${point.streams} streams + ${point.delayMs} ms`,
		);
		console.log(`crash: seed ${SEED}, kills ${schedule.join("; ")}`);
		const attempts: Attempt[] = [];
		const env = {
			TABLE_NAME: store.tableName,
			FUNCTION_TIMEOUT_MS: String(FUNCTION_TIMEOUT_MS),
		};

		for (let round = 0; round < KILLS; round++) {
			gateway = await startGatewayChild({ env });
			const { streams: streamsBeforeKill, delayMs } = killPoints[
				round
			] as (typeof killPoints)[number];
			let streamsStarted = 0;
			let reachedKillPoint: () => void = () => {};
			const killPoint = new Promise<void>((resolve) => {
				reachedKillPoint = resolve;
			});
			const load = await driveLoad(gateway, plan, round, {
				onStreamStarted: () => {
					streamsStarted++;
					if (streamsStarted === streamsBeforeKill) reachedKillPoint();
				},
			});

			// The deadline only keeps a stalled round from hanging the
			// test. A round that reaches it is reported in the output.
			const reached = await Promise.race([
				killPoint.then(() => true),
				sleep(KILL_POINT_DEADLINE_MS).then(() => false),
			]);
			if (!reached) {
				schedule[round] += ` (deadline hit after ${streamsStarted} streams)`;
			}
			await sleep(delayMs);
			load.stop();
			await gateway.kill();
			await load.done;
			attempts.push(...load.attempts);
		}

		gateway = await startGatewayChild({ env });
		const finalRun = await driveLoad(gateway, plan, KILLS, {
			limit: FINAL_RUN_REQUESTS,
		});
		await finalRun.done;
		attempts.push(...finalRun.attempts);
		await gateway.stop();
		gateway = undefined;

		const orphaned = await waitPastExpiry(tenants);
		const reconciled = await reconcileReservations(store, { now: new Date() });

		expect(reconciled.failed, "failed releases").toBe(0);
		expect(reconciled.released).toBe(orphaned);
		expect(orphaned, "reservations left open by the kills").toBeGreaterThan(0);
		expect(
			attempts.filter((attempt) => attempt.status === "timeout"),
			"requests that hung",
		).toEqual([]);
		expect(
			finalRun.attempts.filter((attempt) => attempt.status === "cut"),
			"requests cut in the run that was not killed",
		).toEqual([]);
		const served = new Set<string>();
		const usageIds = new Set<string>();
		for (const tenant of tenants) {
			const records = await expectWorkspaceAccounted(
				store,
				tenant.workspaceId,
				tenant.keys.map((key) => key.item),
			);
			for (const event of records.usage) usageIds.add(event.requestId);
		}
		for (const attempt of attempts) {
			if (attempt.status === 200 && attempt.requestId) {
				served.add(attempt.requestId);
			}
		}
		expect(
			[...served].filter((requestId) => !usageIds.has(requestId)),
			"served requests without a usage event",
		).toEqual([]);
		const requestIdsByIdempotencyKey = new Map<string, Set<string>>();
		for (const attempt of attempts) {
			if (!attempt.idempotencyKey || attempt.status !== 200) continue;
			const ids =
				requestIdsByIdempotencyKey.get(attempt.idempotencyKey) ?? new Set();
			ids.add(attempt.requestId ?? "");
			requestIdsByIdempotencyKey.set(attempt.idempotencyKey, ids);
		}
		for (const [idempotencyKey, ids] of requestIdsByIdempotencyKey) {
			expect(ids.size, `requests served for ${idempotencyKey}`).toBe(1);
		}

		const count = (predicate: (attempt: Attempt) => boolean) =>
			attempts.filter(predicate).length;
		console.log(
			[
				`crash: seed ${SEED}; ${KILLS} SIGKILLs (${schedule.join("; ")}), ${KILLS + 1} runs, ${CONCURRENCY} requests in flight`,
				`  ${attempts.length} requests sent: ${count((a) => a.status === 200)} served (${count((a) => a.replayed)} idempotent replays), ${count((a) => typeof a.status === "number" && a.status !== 200)} refused, ${count((a) => a.status === "cut")} cut by a kill (${count((a) => a.status === "cut" && a.started)} mid-response)`,
				`  reconciler released ${reconciled.released} orphaned reservations after their expiry; ${usageIds.size} usage events, none twice; ledger reconciles; no open reservation`,
			].join("\n"),
		);
	});
});
