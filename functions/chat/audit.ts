/**
 * The audit record of a chat request: candidates, exclusions, every attempt
 * and the final route.
 */
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { GatewayError } from "../../shared/errors.ts";
import { keys } from "../../shared/table.ts";
import type { RequestState } from "./state.ts";

export function auditDetails(
	state: RequestState,
	outcome: Record<string, unknown>,
) {
	const plan = state.plan;
	return {
		action: "chat.request",
		actor: state.auth?.key.keyId ?? "anonymous",
		details: {
			requestId: state.invocation.requestId,
			model: state.request?.model,
			stream: state.request?.stream === true,
			candidates: plan?.candidates.map((route) => route.id) ?? [],
			excluded: plan?.excluded ?? [],
			attempts: state.attempts,
			...outcome,
		},
	};
}

export async function writeStandaloneAudit(
	state: RequestState,
	error: GatewayError,
): Promise<void> {
	if (!state.auth) return;
	const workspaceId = state.auth.key.workspaceId;
	const requestId = state.invocation.requestId;
	await state.invocation.store.doc.send(
		new PutCommand({
			TableName: state.invocation.store.tableName,
			Item: {
				...keys.auditEvent(workspaceId, requestId),
				entity: "auditEvent",
				eventId: requestId,
				workspaceId,
				createdAt: new Date().toISOString(),
				...auditDetails(state, {
					finalRoute: null,
					status: error.status,
					errorCode: error.code,
				}),
			},
		}),
	);
}
