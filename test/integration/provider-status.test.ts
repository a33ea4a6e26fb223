import { beforeAll, describe, expect, it } from "vitest";
import {
	loadCatalog,
	readCatalogFile,
	resetCatalogCache,
} from "../../functions/catalog/load.ts";
import type { Store } from "../../functions/store/client.ts";
import {
	getProviderStatus,
	listProviderStatusChanges,
	listProviderStatuses,
	setProviderStatus,
} from "../../functions/store/provider-status.ts";
import { LOCAL_CATALOG_FILE } from "../../infra/local/environment.ts";
import { type CliResult, runAdminCli } from "../setup/admin-cli.ts";
import { createTestTable, isolatedTableName } from "../setup/store.ts";

// Provider status applies to the whole table, so this file keeps its own:
// turning a provider off in the shared table would change other files'
// routing.
const tableName = isolatedTableName("providers");
let store: Store;

beforeAll(async () => {
	store = await createTestTable(tableName);
});

function admin(...args: string[]): Promise<CliResult> {
	return runAdminCli(tableName, ...args);
}

describe("setProviderStatus", () => {
	it("sets a status with an audit event", async () => {
		const result = await setProviderStatus(store, {
			providerId: "prov-audit",
			status: "inactive",
			actor: "admin-cli:ops",
		});

		const stored = await getProviderStatus(store, "prov-audit");
		const changes = await listProviderStatusChanges(store, "prov-audit");
		expect(result.changed).toBe(true);
		expect(stored?.status).toBe("inactive");
		expect(stored?.updatedBy).toBe("admin-cli:ops");
		expect(changes).toHaveLength(1);
		expect(changes[0]?.action).toBe("provider.statusChanged");
		expect(changes[0]?.details).toEqual({ before: null, after: "inactive" });
	});

	it("writes nothing for the same status", async () => {
		await setProviderStatus(store, {
			providerId: "prov-same",
			status: "active",
			actor: "ops",
		});

		const again = await setProviderStatus(store, {
			providerId: "prov-same",
			status: "active",
			actor: "ops",
		});

		const changes = await listProviderStatusChanges(store, "prov-same");
		expect(again.changed).toBe(false);
		expect(changes).toHaveLength(1);
	});

	it("records each change in order", async () => {
		for (const status of ["inactive", "active", "inactive"] as const) {
			await setProviderStatus(store, {
				providerId: "prov-order",
				status,
				actor: "ops",
			});
		}

		const changes = await listProviderStatusChanges(store, "prov-order");

		expect(changes.map((change) => change.details)).toEqual([
			{ before: "active", after: "inactive" },
			{ before: "inactive", after: "active" },
			{ before: null, after: "inactive" },
		]);
	});

	it("serializes concurrent changes", async () => {
		await Promise.all(
			Array.from({ length: 6 }, (_, i) =>
				setProviderStatus(store, {
					providerId: "prov-race",
					status: i % 2 === 0 ? "inactive" : "active",
					actor: `ops-${i}`,
				}),
			),
		);

		const stored = await getProviderStatus(store, "prov-race");
		const changes = await listProviderStatusChanges(store, "prov-race");
		const newest = changes[0];
		expect(newest?.details.after).toBe(stored?.status);
		for (let i = 0; i + 1 < changes.length; i++) {
			expect(changes[i]?.details.before).toBe(changes[i + 1]?.details.after);
		}
	});

	it.each([
		["an invalid provider id", { providerId: "Bad Id!" }, "providerId"],
		["an invalid status", { status: "paused" }, "status"],
		["an empty actor", { actor: " " }, "actor"],
	])("rejects %s", async (_case, override, param) => {
		const input = {
			providerId: "prov-valid",
			status: "inactive",
			actor: "ops",
			...override,
		} as Parameters<typeof setProviderStatus>[1];

		const error = (await setProviderStatus(store, input).catch(
			(e: unknown) => e,
		)) as { status: number; param: string };

		expect(error.status).toBe(400);
		expect(error.param).toBe(param);
	});

	it("overrides the catalog status", async () => {
		// Every route of the shipped sg catalog is inactive until an operator
		// turns its provider on.
		await setProviderStatus(store, {
			providerId: "deepseek",
			status: "active",
			actor: "ops",
		});
		resetCatalogCache();

		const routes = await loadCatalog(store, "sg");

		const deepseek = routes.filter((route) => route.providerId === "deepseek");
		const others = routes.filter((route) => route.providerId !== "deepseek");
		expect(deepseek.length).toBeGreaterThan(0);
		expect(deepseek.every((route) => route.status === "active")).toBe(true);
		expect(others.every((route) => route.status === "inactive")).toBe(true);
	});
});

describe("listProviderStatuses", () => {
	it("lists statuses by provider id", async () => {
		await setProviderStatus(store, {
			providerId: "prov-list-b",
			status: "inactive",
			actor: "ops",
		});
		await setProviderStatus(store, {
			providerId: "prov-list-a",
			status: "active",
			actor: "ops",
		});

		const statuses = await listProviderStatuses(store);

		const ids = statuses.map((item) => item.providerId);
		expect(ids.indexOf("prov-list-a")).toBeLessThan(ids.indexOf("prov-list-b"));
		expect(statuses.find((s) => s.providerId === "prov-list-b")).toEqual({
			providerId: "prov-list-b",
			status: "inactive",
			updatedAt: expect.any(String),
			updatedBy: "ops",
		});
	});
});

describe("admin provider", () => {
	it("sets and lists a status", async () => {
		const localRoutes = readCatalogFile("local", LOCAL_CATALOG_FILE).filter(
			(route) => route.providerId === "sim-us",
		);
		const localStatuses = new Set(localRoutes.map((route) => route.status));
		const localStatus =
			localStatuses.size === 1 ? [...localStatuses][0] : "mixed";

		const set = await admin(
			"provider",
			"status",
			"--provider",
			"sim-us",
			"--status",
			"inactive",
		);
		const listed = await admin("provider", "list", "--json");

		const entries = JSON.parse(listed.stdout) as {
			providerId: string;
			catalogs: string[];
			catalogStatus: string;
			status: string | null;
			effectiveStatus: string;
		}[];
		const simUs = entries.find((entry) => entry.providerId === "sim-us");
		expect(set.code).toBe(0);
		expect(set.stdout).toContain("Provider sim-us is now inactive");
		expect(listed.code).toBe(0);
		expect(simUs?.catalogs).toContain("local");
		expect(simUs?.catalogStatus).toBe(localStatus);
		expect(simUs?.status).toBe("inactive");
		expect(simUs?.effectiveStatus).toBe("inactive");
	});

	it("rejects an unknown provider", async () => {
		const result = await admin(
			"provider",
			"status",
			"--provider",
			"nobody",
			"--status",
			"inactive",
		);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain('Unknown provider "nobody"');
	});

	it("rejects an invalid status", async () => {
		const result = await admin(
			"provider",
			"status",
			"--provider",
			"sim-us",
			"--status",
			"off",
		);

		expect(result.code).toBe(2);
		expect(result.stderr).toContain('Invalid --status "off"');
	});
});
