import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
	METRIC_NAMES,
	METRIC_NAMESPACE,
	SERVICE_NAMES,
} from "../../functions/observability/metric-names.ts";
import { createApiKey } from "../../functions/store/api-keys.ts";
import type { Store } from "../../functions/store/client.ts";
import { getBalance } from "../../functions/store/credit.ts";
import { newRequestId } from "../../functions/store/ids.ts";
import { reserveCredit } from "../../functions/store/metering.ts";
import {
	createTestTable,
	isolatedTableName,
	newWorkspace,
} from "../setup/store.ts";

// The handler reads TABLE_NAME once, so this file points it at a table of
// its own before the first invocation: other files' expired reservations
// must not change the counts.
const tableName = isolatedTableName("reconciler");
let store: Store;

beforeAll(async () => {
	store = await createTestTable(tableName);
	process.env.TABLE_NAME = tableName;
	process.env.DYNAMODB_ENDPOINT = inject("dynamodbEndpoint");
	// The test config turns metrics off; this file checks what is published.
	process.env.POWERTOOLS_METRICS_DISABLED = "false";
});

afterEach(() => {
	vi.restoreAllMocks();
});

/** Calls the handler and returns the JSON lines it wrote to stdout. */
async function invokeHandler() {
	const lines: string[] = [];
	vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
		lines.push(...String(chunk).split("\n").filter(Boolean));
		return true;
	});
	const { handler } = await import("../../functions/reconciler/handler.ts");

	const summary = await handler(
		{ id: "event-1", "detail-type": "Scheduled Event" },
		{ awsRequestId: "invocation-1" },
	);

	vi.restoreAllMocks();
	return { summary, output: lines.map((line) => JSON.parse(line)) };
}

function metricValue(output: Record<string, unknown>[]): unknown {
	const emf = output.find((line) => "_aws" in line);
	return emf?.[METRIC_NAMES.openReservationsPastExpiry];
}

describe("reconciler handler", () => {
	it("releases and publishes the count", async () => {
		const workspace = await newWorkspace(store, { creditUsd: "1" });
		const { item: key } = await createApiKey(store, {
			workspaceId: workspace.workspaceId,
			cell: workspace.cell,
			name: "handler",
			scopes: ["chat.completions"],
			actor: "test",
		});
		for (const amountMicroUsd of [100_000, 200_000]) {
			await reserveCredit(store, {
				requestId: newRequestId(),
				workspaceId: workspace.workspaceId,
				keyId: key.keyId,
				keyHash: key.keyHash,
				keyHasBudget: false,
				model: "gpt-4o-mini",
				amountMicroUsd,
				expiresAt: new Date(Date.now() - 1_000),
			});
		}

		const { summary, output } = await invokeHandler();

		const balance = await getBalance(store, workspace.workspaceId);
		const emf = output.find((line) => "_aws" in line) as {
			_aws: {
				CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[];
			};
			service: string;
		};
		const log = output.find((line) => line.message === "reconciler run");
		expect(summary.released).toBe(2);
		expect(summary.pastExpiryBefore).toBe(2);
		expect(balance?.availableMicroUsd).toBe(1_000_000);
		expect(metricValue(output)).toBe(2);
		expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRIC_NAMESPACE);
		expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
		expect(emf.service).toBe(SERVICE_NAMES.reconciler);
		expect(log?.released).toBe(2);
		expect(log?.invocationId).toBe("invocation-1");
	});

	it("publishes zero when nothing expired", async () => {
		await invokeHandler();

		const { summary, output } = await invokeHandler();

		expect(summary.pastExpiryBefore).toBe(0);
		expect(summary.examined).toBe(0);
		expect(metricValue(output)).toBe(0);
	});
});
