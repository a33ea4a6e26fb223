/**
 * Recent requests and the audit trail of one: the route used, the ordered
 * candidates, the excluded routes and why, every attempt and each fallback.
 */
import { notFound } from "../../../shared/errors.ts";
import {
	EXCLUSION_TEXT,
	type ExclusionReason,
} from "../../../shared/routing.ts";
import { getAuditEvent, listAuditEvents } from "../../store/audit.ts";
import type { AuditEventItem } from "../../store/items.ts";
import { listUsageEvents } from "../../store/usage.ts";
import type { RouteContext } from "../context.ts";
import { json, type PortalResponse } from "../http.ts";

/** Audit action of a chat request's own record. */
const REQUEST_ACTION = "chat.request";
const RECENT_LIMIT = 100;

interface AttemptRecord {
	providerId?: string;
	routeId?: string;
	outcome?: string;
	status?: number;
	latencyMs?: number;
	reason?: string;
}

interface ExcludedRecord {
	routeId: string;
	providerId?: string;
	reasons: string[];
}

function attemptsOf(event: AuditEventItem): AttemptRecord[] {
	const attempts = event.details.attempts;
	return Array.isArray(attempts) ? (attempts as AttemptRecord[]) : [];
}

function summarize(event: AuditEventItem, chargeMicroUsd?: number) {
	const details = event.details;
	return {
		eventId: event.eventId,
		requestId: String(details.requestId ?? event.eventId),
		action: event.action,
		createdAt: event.createdAt,
		model: typeof details.model === "string" ? details.model : undefined,
		routeId:
			typeof details.finalRoute === "string" ? details.finalRoute : undefined,
		status: details.status === undefined ? undefined : String(details.status),
		// The metering outcome, because a stream the client dropped still has status 200.
		usageStatus:
			typeof details.usageStatus === "string" ? details.usageStatus : undefined,
		attempts: attemptsOf(event).length,
		...(chargeMicroUsd === undefined ? {} : { chargeMicroUsd }),
	};
}

export async function listRequestsRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	const workspaceId = context.caller.workspaceId;
	const [events, usage] = await Promise.all([
		listAuditEvents(context.store, workspaceId, { limit: RECENT_LIMIT * 2 }),
		listUsageEvents(context.store, workspaceId, { limit: RECENT_LIMIT }),
	]);
	const charges = new Map(
		usage.map((entry) => [entry.requestId, entry.chargeMicroUsd]),
	);
	const requests = events
		.filter((event) => event.action === REQUEST_ACTION)
		.slice(0, RECENT_LIMIT)
		.map((event) => summarize(event, charges.get(event.eventId)));
	return json({ requests });
}

export async function getRequestRoute(
	context: RouteContext,
): Promise<PortalResponse> {
	const requestId = context.params.id ?? "";
	const event = await getAuditEvent(
		context.store,
		context.caller.workspaceId,
		requestId,
	);
	if (!event || event.action !== REQUEST_ACTION) {
		throw notFound(
			`Request ${requestId} was not found in this workspace. Use the x-request-id header of the response, or pick one from Recent requests.`,
			"request_not_found",
			"id",
		);
	}

	const details = event.details;
	const attempts = attemptsOf(event);
	const excluded = (
		Array.isArray(details.excluded) ? details.excluded : []
	) as ExcludedRecord[];
	const fallbacks = attempts.slice(1).map((attempt, index) => {
		const failed = attempts[index] as AttemptRecord;
		return {
			from: failed.routeId,
			to: attempt.routeId,
			reason: failed.reason ?? failed.outcome,
		};
	});
	return json({
		request: {
			...summarize(event),
			candidates: Array.isArray(details.candidates) ? details.candidates : [],
			excluded: excluded.map((entry) => ({
				routeId: entry.routeId,
				reasons: entry.reasons.map(
					(reason) => EXCLUSION_TEXT[reason as ExclusionReason] ?? reason,
				),
			})),
			attemptList: attempts,
			fallbacks,
			details,
		},
	});
}
