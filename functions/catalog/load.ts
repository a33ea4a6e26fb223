/**
 * Loads the cell's provider catalog: the file shipped for the cell (or
 * `CATALOG_FILE` locally), merged with provider status that operators
 * change at run time in the table. Status is cached and refreshed in the
 * background, so routing adds no table read to a request.
 */
import { readFileSync } from "node:fs";
import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import globalCatalog from "../../infra/catalog/global.json" with {
	type: "json",
};
import sgCatalog from "../../infra/catalog/sg.json" with { type: "json" };
import usCatalog from "../../infra/catalog/us.json" with { type: "json" };
import { type CatalogRoute, parseCatalog } from "../../shared/catalog.ts";
import { keys } from "../../shared/table.ts";
import type { Store } from "../store/client.ts";

const SHIPPED: Record<string, unknown> = {
	sg: sgCatalog,
	us: usCatalog,
	global: globalCatalog,
};

/** How long run-time provider status is trusted before a background refresh. */
const STATUS_TTL_MS = 10_000;

/** Provider status item: `PROVIDER#<id>` / `META`. */
export interface ProviderStatusItem {
	providerId: string;
	status: "active" | "inactive";
	updatedAt: string;
	updatedBy: string;
}

/**
 * Reads and validates the catalog file for a cell. `${SIMULATOR_URL}` in a
 * base URL is replaced with the `SIMULATOR_URL` environment variable.
 *
 * @throws Error when the file is missing or invalid.
 */
export function readCatalogFile(
	cellId: string,
	catalogFile = process.env.CATALOG_FILE,
): CatalogRoute[] {
	let data: unknown;
	let source: string;
	if (catalogFile) {
		source = catalogFile;
		data = JSON.parse(readFileSync(catalogFile, "utf8"));
	} else {
		source = `shipped catalog of cell ${cellId}`;
		data = SHIPPED[cellId];
		if (!data) {
			throw new Error(
				`No catalog ships for cell "${cellId}". Set CATALOG_FILE or add infra/catalog/${cellId}.json.`,
			);
		}
	}
	const simulatorUrl = process.env.SIMULATOR_URL ?? "";
	return parseCatalog(data, source).map((route) => ({
		...route,
		// biome-ignore lint/suspicious/noTemplateCurlyInString: the catalog placeholder is literal text, not a template.
		baseUrl: route.baseUrl.replace("${SIMULATOR_URL}", simulatorUrl),
	}));
}

interface CatalogCache {
	routes: CatalogRoute[];
	statuses: Map<string, ProviderStatusItem>;
	loadedAt: number;
	refreshing?: Promise<void>;
}

let cache: CatalogCache | undefined;

async function readProviderStatuses(
	store: Store,
	providerIds: string[],
): Promise<Map<string, ProviderStatusItem>> {
	const statuses = new Map<string, ProviderStatusItem>();
	for (let i = 0; i < providerIds.length; i += 100) {
		const batch = providerIds.slice(i, i + 100);
		let request: Record<string, { Keys: Record<string, unknown>[] }> = {
			[store.tableName]: { Keys: batch.map((id) => keys.provider(id)) },
		};
		while (Object.keys(request).length > 0) {
			const result = await store.doc.send(
				new BatchGetCommand({ RequestItems: request }),
			);
			for (const item of result.Responses?.[store.tableName] ?? []) {
				statuses.set(item.providerId, item as ProviderStatusItem);
			}
			request = (result.UnprocessedKeys ?? {}) as typeof request;
		}
	}
	return statuses;
}

function applyStatuses(
	routes: CatalogRoute[],
	statuses: Map<string, ProviderStatusItem>,
): CatalogRoute[] {
	return routes.map((route) => {
		const override = statuses.get(route.providerId);
		return override ? { ...route, status: override.status } : route;
	});
}

/**
 * Returns the cell's catalog with run-time provider status applied. The
 * first call reads the table; later calls return the cached catalog and
 * refresh it in the background once it is older than 10 seconds.
 */
export async function loadCatalog(
	store: Store,
	cellId = process.env.CELL_ID ?? "global",
): Promise<CatalogRoute[]> {
	if (!cache) {
		const routes = readCatalogFile(cellId);
		const providerIds = [...new Set(routes.map((route) => route.providerId))];
		cache = {
			routes,
			statuses: await readProviderStatuses(store, providerIds),
			loadedAt: Date.now(),
		};
	} else if (Date.now() - cache.loadedAt > STATUS_TTL_MS && !cache.refreshing) {
		const current = cache;
		const providerIds = [...new Set(current.routes.map((r) => r.providerId))];
		current.refreshing = readProviderStatuses(store, providerIds)
			.then((statuses) => {
				current.statuses = statuses;
				current.loadedAt = Date.now();
			})
			.catch(() => {
				// Keep serving the last known status; the next call retries.
				current.loadedAt = Date.now();
			})
			.finally(() => {
				current.refreshing = undefined;
			});
	}
	return applyStatuses(cache.routes, cache.statuses);
}

/** Drops the cached catalog; tests and status changes call it. */
export function resetCatalogCache(): void {
	cache = undefined;
}
