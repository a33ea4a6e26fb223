/** `provider list` and `provider status`. */
import { readCatalogFile } from "../../../functions/catalog/load.ts";
import {
	listProviderStatuses,
	setProviderStatus,
} from "../../../functions/store/provider-status.ts";
import type { CatalogRoute } from "../../../shared/catalog.ts";
import { CELLS } from "../../cells.ts";
import { LOCAL_CATALOG_FILE } from "../../local/environment.ts";
import { type Command, requiredOption, UsageError } from "../command.ts";
import { table } from "../format.ts";

const STATUSES = ["active", "inactive"] as const;

interface CatalogProvider {
	providerId: string;
	/** Catalogs that list the provider: cell ids, `local`, or `CATALOG_FILE`. */
	catalogs: string[];
	/** Status of its routes in the catalogs: `active`, `inactive` or `mixed`. */
	catalogStatus: string;
}

export const providerList: Command = {
	name: "provider list",
	usage: "",
	summary:
		"List providers of every catalog with their catalog status and the run-time status set in the table.",
	options: {},
	async run({ store }) {
		const providers = catalogProviders();
		const statuses = await listProviderStatuses(store);
		const statusById = new Map(statuses.map((item) => [item.providerId, item]));
		const ids = [
			...new Set([...providers.keys(), ...statusById.keys()]),
		].sort();

		const entries = ids.map((providerId) => {
			const provider = providers.get(providerId);
			const override = statusById.get(providerId);
			return {
				providerId,
				catalogs: provider?.catalogs ?? [],
				catalogStatus: provider?.catalogStatus ?? null,
				status: override?.status ?? null,
				effectiveStatus: override?.status ?? provider?.catalogStatus ?? null,
				updatedAt: override?.updatedAt ?? null,
				updatedBy: override?.updatedBy ?? null,
			};
		});
		const rows = entries.map((entry) => [
			entry.providerId,
			entry.catalogs.join(",") || "(none)",
			entry.catalogStatus ?? "-",
			entry.status ?? "-",
			entry.effectiveStatus ?? "-",
			entry.updatedAt ?? "-",
			entry.updatedBy ?? "-",
		]);
		return {
			json: entries,
			text: table(
				[
					"PROVIDER",
					"CATALOGS",
					"CATALOG STATUS",
					"SET STATUS",
					"EFFECTIVE",
					"UPDATED AT",
					"UPDATED BY",
				],
				rows,
			),
		};
	},
};

export const providerStatus: Command = {
	name: "provider status",
	usage: "--provider P --status active|inactive",
	summary:
		"Turn every route of a provider on or off at run time. Functions follow within about 10 seconds, and the change is audited.",
	options: { provider: { type: "string" }, status: { type: "string" } },
	async run({ store, actor }, values) {
		const providerId = requiredOption(values, "provider");
		const status = requiredOption(values, "status");
		if (!(STATUSES as readonly string[]).includes(status)) {
			throw new UsageError(
				`Invalid --status "${status}": use ${STATUSES.join(" or ")}.`,
			);
		}
		const provider = catalogProviders().get(providerId);
		if (!provider) {
			throw new UsageError(
				`Unknown provider "${providerId}": no catalog lists it. Run provider list to see the provider ids.`,
			);
		}

		const result = await setProviderStatus(store, {
			providerId,
			status: status as (typeof STATUSES)[number],
			actor,
		});

		return {
			json: { ...result.item, changed: result.changed },
			text: result.changed
				? `Provider ${providerId} is now ${status} (set by ${result.item.updatedBy} at ${result.item.updatedAt}). Running functions follow within about 10 seconds.`
				: `Provider ${providerId} is already ${status}. Nothing changed.`,
		};
	},
};

/**
 * Providers of the shipped catalog of every cell, the local catalog and the
 * `CATALOG_FILE` catalog when it is set. The local runtime shares one table
 * between its cells, so a status set there applies to all of them.
 */
function catalogProviders(): Map<string, CatalogProvider> {
	const catalogs: [string, CatalogRoute[]][] = CELLS.map((cell) => [
		cell.id,
		readCatalogFile(cell.id, ""),
	]);
	catalogs.push(["local", readCatalogFile("local", LOCAL_CATALOG_FILE)]);
	const catalogFile = process.env.CATALOG_FILE?.trim();
	if (catalogFile && catalogFile !== LOCAL_CATALOG_FILE) {
		catalogs.push(["CATALOG_FILE", readCatalogFile("file", catalogFile)]);
	}

	const catalogsById = new Map<string, Set<string>>();
	const statusesById = new Map<string, Set<string>>();
	for (const [catalog, routes] of catalogs) {
		for (const route of routes) {
			addTo(catalogsById, route.providerId, catalog);
			addTo(statusesById, route.providerId, route.status);
		}
	}

	const providers = new Map<string, CatalogProvider>();
	for (const [providerId, names] of catalogsById) {
		const statuses = [...(statusesById.get(providerId) ?? [])];
		providers.set(providerId, {
			providerId,
			catalogs: [...names],
			catalogStatus: statuses.length === 1 ? (statuses[0] as string) : "mixed",
		});
	}
	return providers;
}

function addTo(map: Map<string, Set<string>>, key: string, value: string) {
	const values = map.get(key);
	if (values) values.add(value);
	else map.set(key, new Set([value]));
}
