import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { describe, expect, it } from "vitest";
import { getAuditEvent, listAuditEvents } from "../../functions/store/audit.ts";
import { topUpCredit } from "../../functions/store/credit.ts";
import type {
	DailyRollupItem,
	LedgerEntryItem,
	ReceiptItem,
	UsageEventItem,
} from "../../functions/store/items.ts";
import { listLedgerEntries } from "../../functions/store/ledger.ts";
import { getReceipt, listReceipts } from "../../functions/store/receipts.ts";
import {
	listDailyRollups,
	listUsageEvents,
} from "../../functions/store/usage.ts";
import { keys } from "../../shared/table.ts";
import { newWorkspace, testStore } from "../setup/store.ts";

const store = testStore();

function requestIdAt(time: Date): string {
	return `req_${ulid(time.getTime())}`;
}

async function putUsage(
	workspaceId: string,
	keyId: string,
	time: Date,
): Promise<UsageEventItem> {
	const requestId = requestIdAt(time);
	const item: UsageEventItem = {
		...keys.usageEvent(workspaceId, requestId),
		entity: "usageEvent",
		requestId,
		workspaceId,
		keyId,
		model: "gpt-4o",
		providerId: "simulator",
		routeId: "simulator/gpt-4o",
		stream: false,
		status: "completed",
		promptTokens: 10,
		cachedPromptTokens: 0,
		completionTokens: 5,
		reasoningTokens: 0,
		chargeMicroUsd: 75,
		providerCostMicroUsd: 60,
		grossMarginMicroUsd: 15,
		uncollectedMicroUsd: 0,
		latencyMs: 12,
		attempts: 1,
		receiptId: requestId,
		createdAt: time.toISOString(),
	};
	await store.doc.send(
		new PutCommand({ TableName: store.tableName, Item: item }),
	);
	return item;
}

/** Writes a charge the way metering does: ids are the request id. */
async function putCharge(workspaceId: string, time: Date): Promise<string> {
	const requestId = requestIdAt(time);
	const entry: LedgerEntryItem = {
		...keys.ledgerEntry(workspaceId, requestId),
		entity: "ledgerEntry",
		entryId: requestId,
		workspaceId,
		kind: "charge",
		amountMicroUsd: -75,
		requestId,
		receiptId: requestId,
		createdAt: time.toISOString(),
	};
	const receipt: ReceiptItem = {
		...keys.receipt(workspaceId, requestId),
		entity: "receipt",
		receiptId: requestId,
		workspaceId,
		kind: "usage",
		amountMicroUsd: 75,
		sellerOfRecord: "Test",
		description: "gpt-4o request",
		createdAt: time.toISOString(),
	};
	for (const item of [entry, receipt]) {
		await store.doc.send(
			new PutCommand({ TableName: store.tableName, Item: item }),
		);
	}
	return requestId;
}

describe("listUsageEvents", () => {
	it("filters by time range", async () => {
		const workspace = await newWorkspace(store);
		const id = workspace.workspaceId;
		const times = [
			"2026-03-01T10:00:00Z",
			"2026-03-02T10:00:00Z",
			"2026-03-03T10:00:00Z",
		].map((iso) => new Date(iso));
		const events = [];
		for (const time of times) events.push(await putUsage(id, "key_A", time));

		const middle = await listUsageEvents(store, id, {
			from: new Date("2026-03-02T10:00:00Z"),
			to: new Date("2026-03-02T10:00:00Z"),
		});
		const fromSecond = await listUsageEvents(store, id, {
			from: new Date("2026-03-02T00:00:00Z"),
		});

		expect(middle.map((event) => event.requestId)).toEqual([
			events[1]?.requestId,
		]);
		expect(fromSecond.map((event) => event.requestId)).toEqual([
			events[2]?.requestId,
			events[1]?.requestId,
		]);
	});

	it("filters by key with a limit", async () => {
		const workspace = await newWorkspace(store);
		const id = workspace.workspaceId;
		const base = Date.parse("2026-04-01T00:00:00Z");
		for (let i = 0; i < 6; i++) {
			await putUsage(id, i % 2 === 0 ? "key_A" : "key_B", new Date(base + i));
		}

		const latestTwoOfA = await listUsageEvents(store, id, {
			keyId: "key_A",
			limit: 2,
		});
		const oldestOfB = await listUsageEvents(store, id, {
			keyId: "key_B",
			limit: 1,
			oldestFirst: true,
		});

		expect(latestTwoOfA.map((event) => event.createdAt)).toEqual([
			new Date(base + 4).toISOString(),
			new Date(base + 2).toISOString(),
		]);
		expect(oldestOfB.map((event) => event.createdAt)).toEqual([
			new Date(base + 1).toISOString(),
		]);
	});

	it("rejects an inverted range", async () => {
		const workspace = await newWorkspace(store);

		const error = await listUsageEvents(store, workspace.workspaceId, {
			from: new Date("2026-02-01T00:00:00Z"),
			to: new Date("2026-01-01T00:00:00Z"),
		}).catch((e) => e);

		expect(error.status).toBe(400);
	});

	it("rejects a limit above 1000", async () => {
		const workspace = await newWorkspace(store);

		const error = await listUsageEvents(store, workspace.workspaceId, {
			limit: 1001,
		}).catch((e) => e);

		expect(error.status).toBe(400);
		expect(error.param).toBe("limit");
	});
});

describe("listLedgerEntries", () => {
	it("merges top-ups and charges by time", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });
		const id = workspace.workspaceId;
		const charge = await putCharge(id, new Date());
		await new Promise((wake) => setTimeout(wake, 5));
		await topUpCredit(store, {
			workspaceId: id,
			amountMicroUsd: 5,
			actor: "test",
		});

		const oldestFirst = await listLedgerEntries(store, id);
		const newestTwo = await listLedgerEntries(store, id, {
			newestFirst: true,
			limit: 2,
		});

		expect(oldestFirst.map((entry) => entry.amountMicroUsd)).toEqual([
			1_000_000, -75, 5,
		]);
		expect(newestTwo.map((entry) => entry.amountMicroUsd)).toEqual([5, -75]);
		expect(newestTwo[1]?.entryId).toBe(charge);
	});
});

describe("listReceipts", () => {
	it("merges purchase and usage receipts", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });
		const id = workspace.workspaceId;
		await new Promise((wake) => setTimeout(wake, 5));
		const charge = await putCharge(id, new Date());

		const receipts = await listReceipts(store, id);
		const usage = await getReceipt(store, id, charge);

		expect(receipts.map((receipt) => receipt.kind)).toEqual([
			"usage",
			"purchase",
		]);
		expect(usage?.amountMicroUsd).toBe(75);
	});

	it("returns undefined for an unknown id", async () => {
		const workspace = await newWorkspace(store);

		const receipt = await getReceipt(store, workspace.workspaceId, "rcpt_NO");

		expect(receipt).toBeUndefined();
	});
});

describe("listAuditEvents", () => {
	it("lists newest first and gets one", async () => {
		const workspace = await newWorkspace(store);
		const id = workspace.workspaceId;
		await topUpCredit(store, {
			workspaceId: id,
			amountMicroUsd: 7,
			actor: "ops",
		});

		const events = await listAuditEvents(store, id);
		const first = await getAuditEvent(store, id, events[1]?.eventId ?? "");

		expect(events.map((event) => event.action)).toEqual([
			"credit.toppedUp",
			"workspace.created",
		]);
		expect(first?.action).toBe("workspace.created");
	});
});

describe("listDailyRollups", () => {
	it("filters by day and key", async () => {
		const workspace = await newWorkspace(store);
		const id = workspace.workspaceId;
		const rows: [string, string, number][] = [
			["2026-05-01", "key_A", 100],
			["2026-05-01", "key_B", 200],
			["2026-05-02", "key_A", 300],
			["2026-05-03", "key_A", 400],
		];
		for (const [day, keyId, chargeMicroUsd] of rows) {
			const item: DailyRollupItem = {
				...keys.dailyRollup(id, day, keyId),
				entity: "dailyRollup",
				workspaceId: id,
				day,
				keyId,
				requests: 1,
				chargeMicroUsd,
				promptTokens: 1,
				completionTokens: 1,
			};
			await store.doc.send(
				new PutCommand({ TableName: store.tableName, Item: item }),
			);
		}

		const firstTwoDays = await listDailyRollups(store, id, {
			fromDay: "2026-05-01",
			toDay: "2026-05-02",
		});
		const keyA = await listDailyRollups(store, id, { keyId: "key_A" });

		expect(firstTwoDays.map((row) => row.chargeMicroUsd)).toEqual([
			100, 200, 300,
		]);
		expect(keyA.map((row) => row.day)).toEqual([
			"2026-05-01",
			"2026-05-02",
			"2026-05-03",
		]);
	});

	it("rejects a malformed day", async () => {
		const workspace = await newWorkspace(store);

		const error = await listDailyRollups(store, workspace.workspaceId, {
			fromDay: "May 1",
		}).catch((e) => e);

		expect(error.status).toBe(400);
	});
});
