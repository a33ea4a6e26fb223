/**
 * Provider policy and marketplace routes. Both rate every catalog route
 * against the workspace policy and cell: active, inactive, or excluded and why.
 */

import { getCell } from "../../../infra/cells.ts";
import { invalidRequest } from "../../../shared/errors.ts";
import { loadCatalog } from "../../catalog/load.ts";
import type { WorkspaceItem, WorkspacePolicy } from "../../store/items.ts";
import { updatePolicy } from "../../store/workspaces.ts";
import { requirePermission } from "../auth.ts";
import type { RouteContext } from "../context.ts";
import { json, type PortalResponse, readJsonBody } from "../http.ts";
import { rateRoutes } from "./catalog.ts";
import { requireWorkspace } from "./workspace.ts";

async function policyReport(context: RouteContext, workspace: WorkspaceItem) {
	const cell = getCell(workspace.cell);
	const catalog = await loadCatalog(context.store, workspace.cell);
	return {
		policy: workspace.policy,
		cell: {
			id: cell.id,
			name: cell.name,
			routableRegions: cell.routableRegions,
		},
		routes: rateRoutes(catalog, workspace.policy, cell.id, context.caller),
	};
}

export async function getPolicyRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	const workspace = await requireWorkspace(context);
	return json(await policyReport(context, workspace));
}

function stringList(value: unknown, field: string): string[] | undefined {
	if (value === undefined || value === null) return undefined;
	if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
		throw invalidRequest(
			`${field} must be a list of ids, or left out to allow all.`,
			`policy.${field}`,
		);
	}
	return value;
}

/** Replaces the policy; the store checks it against the cell. */
export async function putPolicyRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	requirePermission(context.caller, "policy:write");
	const body = readJsonBody(context.request);
	const allowedProviders = stringList(
		body.allowedProviders,
		"allowedProviders",
	);
	const allowedModels = stringList(body.allowedModels, "allowedModels");
	const policy: WorkspacePolicy = {
		allowedRegions: stringList(body.allowedRegions, "allowedRegions") ?? [],
		retention: body.retention as WorkspacePolicy["retention"],
		logging: body.logging as WorkspacePolicy["logging"],
		...(allowedProviders ? { allowedProviders } : {}),
		...(allowedModels ? { allowedModels } : {}),
	};

	const workspace = await updatePolicy(context.store, {
		workspaceId: context.caller.workspaceId,
		policy,
		actor: context.caller.userId,
	});
	return json(await policyReport(context, workspace));
}

/** Lists the marketplace: every route of the cell with price and status for the workspace. */
export async function catalogRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	const workspace = await requireWorkspace(context);
	const catalog = await loadCatalog(context.store, workspace.cell);
	return json({
		routes: rateRoutes(
			catalog,
			workspace.policy,
			workspace.cell,
			context.caller,
		),
	});
}
