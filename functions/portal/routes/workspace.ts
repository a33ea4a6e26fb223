import type { WorkspaceItem } from "../../store/items.ts";
import { getWorkspace, workspaceNotFound } from "../../store/workspaces.ts";
import type { RouteContext } from "../context.ts";

/**
 * Gets the caller's workspace.
 *
 * @throws 404 when the membership points at a workspace that no longer exists.
 */
export async function requireWorkspace(
	context: RouteContext,
): Promise<WorkspaceItem> {
	const workspace = await getWorkspace(
		context.store,
		context.caller.workspaceId,
	);
	if (!workspace) throw workspaceNotFound(context.caller.workspaceId);
	return workspace;
}
