/**
 * Compliant routing: a pure function from the request's model, the
 * workspace policy, the cell and the key to the ordered candidates, with
 * every excluded route and the rules that excluded it. It never returns a
 * route that breaks a rule, so fallback can only pick among compliant ones.
 */
import type { CatalogRoute } from "./catalog.ts";

export interface RoutingPolicy {
	allowedRegions: readonly string[];
	/** `none` removes every provider that retains prompts. */
	retention: "none" | "any";
	allowedProviders?: readonly string[];
	allowedModels?: readonly string[];
}

export interface RoutingCell {
	id: string;
	routableRegions: readonly string[];
}

export interface RoutingKey {
	allowedModels?: readonly string[];
	scopes: readonly string[];
}

export type ExclusionReason =
	| "inactive"
	| "provider_unhealthy"
	| "cell_region"
	| "policy_region"
	| "retention"
	| "resale_not_authorized"
	| "provider_not_allowed"
	| "model_not_allowed_by_policy"
	| "model_not_allowed_for_key"
	| "scope_missing"
	| "workload_not_chat";

export interface ExcludedRoute {
	routeId: string;
	providerId: string;
	reasons: ExclusionReason[];
}

export interface RoutePlan {
	/** Compliant routes in the order they are tried. */
	candidates: CatalogRoute[];
	/** Routes serving the model that were excluded, with every reason. */
	excluded: ExcludedRoute[];
	/** True when some route in the catalog serves the requested model. */
	modelKnown: boolean;
}

export interface RouteRequest {
	/** Model id, or `<providerId>/<model>` to pin one provider. */
	model: string;
	policy: RoutingPolicy;
	cell: RoutingCell;
	key: RoutingKey;
	catalog: readonly CatalogRoute[];
	/** Providers in cooldown after repeated failures. */
	unhealthyProviders?: ReadonlySet<string>;
	/** Workloads this endpoint serves; chat serves text and coding. */
	workloads?: readonly string[];
}

/** Human-readable text of each exclusion reason, for errors and the portal. */
export const EXCLUSION_TEXT: Record<ExclusionReason, string> = {
	inactive: "route is inactive",
	provider_unhealthy: "provider is cooling down after repeated failures",
	cell_region: "processing region is not served by this cell",
	policy_region: "processing region is not in the workspace's allowed regions",
	retention: "provider retains prompts and the workspace requires no retention",
	resale_not_authorized: "route is not authorized for resale",
	provider_not_allowed: "provider is not in the workspace's allowed providers",
	model_not_allowed_by_policy: "model is not in the workspace's allowed models",
	model_not_allowed_for_key: "model is not in this API key's allowed models",
	scope_missing: "API key lacks the route's scope",
	workload_not_chat: "model is not a chat model",
};

function splitPinnedModel(
	model: string,
	catalog: readonly CatalogRoute[],
): { model: string; providerId?: string } {
	const slash = model.indexOf("/");
	if (slash > 0) {
		const providerId = model.slice(0, slash);
		const rest = model.slice(slash + 1);
		if (catalog.some((route) => route.providerId === providerId)) {
			return { model: rest, providerId };
		}
	}
	return { model };
}

/** Lists every rule a route breaks for this request; empty means compliant. */
export function exclusionReasons(
	route: CatalogRoute,
	request: Omit<RouteRequest, "model" | "catalog">,
): ExclusionReason[] {
	const { policy, cell, key } = request;
	const reasons: ExclusionReason[] = [];
	const workloads = request.workloads ?? ["text", "coding"];
	if (!workloads.includes(route.workload)) reasons.push("workload_not_chat");
	if (route.status !== "active") reasons.push("inactive");
	if (request.unhealthyProviders?.has(route.providerId)) {
		reasons.push("provider_unhealthy");
	}
	if (!cell.routableRegions.includes(route.processingRegion)) {
		reasons.push("cell_region");
	}
	if (!policy.allowedRegions.includes(route.processingRegion)) {
		reasons.push("policy_region");
	}
	if (policy.retention === "none" && route.dataRetention !== "none") {
		reasons.push("retention");
	}
	if (!route.resaleAuthorized) reasons.push("resale_not_authorized");
	if (
		policy.allowedProviders &&
		!policy.allowedProviders.includes(route.providerId)
	) {
		reasons.push("provider_not_allowed");
	}
	if (policy.allowedModels && !policy.allowedModels.includes(route.model)) {
		reasons.push("model_not_allowed_by_policy");
	}
	if (key.allowedModels && !key.allowedModels.includes(route.model)) {
		reasons.push("model_not_allowed_for_key");
	}
	if (!key.scopes.includes(route.apiKeyScope)) reasons.push("scope_missing");
	return reasons;
}

/**
 * Plans the routes for one request: compliant candidates ordered by
 * priority, then provider id for a stable order, and every excluded route
 * with its reasons.
 */
export function planRoutes(request: RouteRequest): RoutePlan {
	const { model, providerId } = splitPinnedModel(
		request.model,
		request.catalog,
	);
	const serving = request.catalog.filter(
		(route) =>
			route.model === model &&
			(providerId === undefined || route.providerId === providerId),
	);
	const candidates: CatalogRoute[] = [];
	const excluded: ExcludedRoute[] = [];
	for (const route of serving) {
		const reasons = exclusionReasons(route, request);
		if (reasons.length === 0) {
			candidates.push(route);
		} else {
			excluded.push({
				routeId: route.id,
				providerId: route.providerId,
				reasons,
			});
		}
	}
	candidates.sort(
		(a, b) =>
			a.priority - b.priority || a.providerId.localeCompare(b.providerId),
	);
	return { candidates, excluded, modelKnown: serving.length > 0 };
}

/** Describes why no route is left, one clause per excluded route. */
export function describeExclusions(excluded: readonly ExcludedRoute[]): string {
	return excluded
		.map(
			(entry) =>
				`${entry.routeId}: ${entry.reasons.map((reason) => EXCLUSION_TEXT[reason]).join(", ")}`,
		)
		.join("; ");
}
