import { describe, expect, it } from "vitest";
import { readCatalogFile } from "../../functions/catalog/load.ts";
import { getCell } from "../../infra/cells.ts";
import { planRoutes, type RoutingPolicy } from "../../shared/routing.ts";

const catalog = readCatalogFile("global", "infra/catalog/local.json");
const globalCell = getCell("global");
const sgCell = getCell("sg");
const openPolicy: RoutingPolicy = {
	allowedRegions: ["SG", "US", "EU", "global"],
	retention: "any",
};
const chatKey = { scopes: ["chat.completions"] };

describe("planRoutes", () => {
	it("orders candidates by priority", () => {
		const plan = planRoutes({
			model: "gpt-4o-mini",
			policy: openPolicy,
			cell: globalCell,
			key: chatKey,
			catalog,
		});

		expect(plan.candidates.map((route) => route.providerId)).toEqual([
			"sim-sg",
			"sim-us",
			"sim-global",
		]);
	});

	it("excludes retaining providers under no retention", () => {
		const plan = planRoutes({
			model: "gpt-4o",
			policy: { ...openPolicy, retention: "none" },
			cell: globalCell,
			key: chatKey,
			catalog,
		});

		expect(plan.candidates.map((route) => route.providerId)).toEqual([
			"sim-us-zdr",
		]);
		expect(
			plan.excluded.find((entry) => entry.providerId === "sim-us")?.reasons,
		).toContain("retention");
	});

	it("keeps the SG cell to SG routes", () => {
		const plan = planRoutes({
			model: "gpt-4o-mini",
			policy: openPolicy,
			cell: sgCell,
			key: chatKey,
			catalog,
		});

		expect(plan.candidates.map((route) => route.processingRegion)).toEqual([
			"SG",
		]);
		expect(
			plan.excluded.find((entry) => entry.providerId === "sim-us")?.reasons,
		).toContain("cell_region");
	});

	it("names every reason for an excluded route", () => {
		const plan = planRoutes({
			model: "gpt-4o-mini",
			policy: openPolicy,
			cell: globalCell,
			key: chatKey,
			catalog,
		});

		expect(
			plan.excluded.find((entry) => entry.providerId === "sim-unlicensed")
				?.reasons,
		).toEqual(["resale_not_authorized"]);
		expect(
			plan.excluded.find((entry) => entry.providerId === "sim-retired")
				?.reasons,
		).toEqual(["inactive"]);
		expect(
			plan.excluded.find((entry) => entry.providerId === "openai")?.reasons,
		).toEqual(["inactive"]);
	});

	it("applies the key's model allowlist", () => {
		const plan = planRoutes({
			model: "gpt-4o",
			policy: openPolicy,
			cell: globalCell,
			key: { scopes: ["chat.completions"], allowedModels: ["gpt-4o-mini"] },
			catalog,
		});

		expect(plan.candidates).toEqual([]);
		expect(
			plan.excluded.every((entry) =>
				entry.reasons.includes("model_not_allowed_for_key"),
			),
		).toBe(true);
	});

	it("pins a provider with a prefix", () => {
		const plan = planRoutes({
			model: "sim-us/gpt-4o-mini",
			policy: openPolicy,
			cell: globalCell,
			key: chatKey,
			catalog,
		});

		expect(plan.candidates.map((route) => route.id)).toEqual([
			"sim-us/gpt-4o-mini",
		]);
	});

	it("reports an unknown model", () => {
		const plan = planRoutes({
			model: "gpt-9",
			policy: openPolicy,
			cell: globalCell,
			key: chatKey,
			catalog,
		});

		expect(plan.modelKnown).toBe(false);
		expect(plan.candidates).toEqual([]);
	});

	it("never returns a non-compliant route", () => {
		for (const route of catalog) {
			for (const retention of ["none", "any"] as const) {
				for (const region of ["SG", "US", "global"]) {
					const policy = { allowedRegions: [region], retention };
					const plan = planRoutes({
						model: route.model,
						policy,
						cell: globalCell,
						key: chatKey,
						catalog,
					});

					for (const candidate of plan.candidates) {
						expect(candidate.processingRegion).toBe(region);
						if (retention === "none")
							expect(candidate.dataRetention).toBe("none");
						expect(candidate.status).toBe("active");
						expect(candidate.resaleAuthorized).toBe(true);
					}
				}
			}
		}
	});
});
