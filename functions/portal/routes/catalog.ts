/**
 * Marketplace and policy views of the cell's provider catalog: every route
 * with its price, region, retention and status, and for the workspace
 * whether its policy lets the route serve requests, and if not, why.
 */

import { getCell } from "../../../infra/cells.ts";
import { KEY_SCOPES } from "../../../shared/api-key.ts";
import type { CatalogRoute } from "../../../shared/catalog.ts";
import {
	EXCLUSION_TEXT,
	type ExclusionReason,
	exclusionReasons,
	type RoutingPolicy,
} from "../../../shared/routing.ts";
import type { Caller } from "../auth.ts";

export type RouteStatus = "active" | "inactive" | "excluded";

export interface RouteView {
	id: string;
	providerId: string;
	providerName: string;
	model: string;
	workload: CatalogRoute["workload"];
	processingRegion: CatalogRoute["processingRegion"];
	dataRetention: CatalogRoute["dataRetention"];
	loggingPolicy: CatalogRoute["loggingPolicy"];
	sla: string;
	/** Catalog status, before the workspace policy applies. */
	status: CatalogRoute["status"];
	unit: CatalogRoute["unit"];
	/** Token routes: customer price in micro-USD per million tokens. */
	price?: CatalogRoute["price"];
	/** Image and video routes: customer price per image or per second. */
	unitPriceMicroUsd?: number;
	/** Operators only. */
	cost?: CatalogRoute["cost"];
	/** Operators only. */
	unitCostMicroUsd?: number;
}

/** Converts a route to its public form, with provider cost only for operators. */
export function toRouteView(route: CatalogRoute, caller: Caller): RouteView {
	const view: RouteView = {
		id: route.id,
		providerId: route.providerId,
		providerName: route.providerName,
		model: route.model,
		workload: route.workload,
		processingRegion: route.processingRegion,
		dataRetention: route.dataRetention,
		loggingPolicy: route.loggingPolicy,
		sla: route.sla,
		status: route.status,
		unit: route.unit,
	};
	if (route.price) view.price = route.price;
	if (route.unitPriceMicroUsd !== undefined) {
		view.unitPriceMicroUsd = route.unitPriceMicroUsd;
	}
	if (caller.operator) {
		if (route.cost) view.cost = route.cost;
		if (route.unitCostMicroUsd !== undefined) {
			view.unitCostMicroUsd = route.unitCostMicroUsd;
		}
	}
	return view;
}

export interface PolicyRouteView extends RouteView {
	/** Status for this workspace: `excluded` when its policy or cell rules it out. */
	policyStatus: RouteStatus;
	reasons: { code: ExclusionReason; text: string }[];
}

/**
 * Rates every catalog route against the workspace policy and the cell. A
 * route is `inactive` when the catalog or an operator switched it off,
 * `excluded` when the cell or the policy rules it out, otherwise `active`.
 * Key-level rules (allowed models, scopes) are left out: they differ per key.
 */
export function rateRoutes(
	catalog: readonly CatalogRoute[],
	policy: RoutingPolicy,
	cellId: string,
	caller: Caller,
): PolicyRouteView[] {
	const cell = getCell(cellId);
	return catalog.map((route) => {
		const reasons = exclusionReasons(route, {
			policy,
			cell: { id: cell.id, routableRegions: cell.routableRegions },
			key: { scopes: KEY_SCOPES },
			workloads: ["text", "coding", "image", "video"],
		});
		const policyStatus: RouteStatus =
			reasons.length === 0
				? "active"
				: reasons.includes("inactive")
					? "inactive"
					: "excluded";
		return {
			...toRouteView(route, caller),
			policyStatus,
			reasons: reasons.map((code) => ({ code, text: EXCLUSION_TEXT[code] })),
		};
	});
}

/** Describes in one overview line how many routes serve the workspace now. */
export function describeRouteStatus(
	routes: readonly PolicyRouteView[],
): string {
	const count = (status: RouteStatus) =>
		routes.filter((route) => route.policyStatus === status).length;
	const active = count("active");
	if (active === 0) {
		return "No route can serve requests: every route is inactive or excluded by your provider policy. Review the policy.";
	}
	return `${active} of ${routes.length} routes serve your workspace; ${count("inactive")} inactive, ${count("excluded")} excluded by policy or cell.`;
}
