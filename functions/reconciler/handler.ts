/**
 * Scheduled reconciler: an EventBridge rule invokes it every minute in a
 * deployed cell, and the local runtime every 30 seconds. Each run releases
 * expired reservations, publishes how many it found past expiry, and logs
 * a one-line summary.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, ScheduledEvent } from "aws-lambda";
import { errorSummary, loggerFor } from "../observability/logger.ts";
import {
	METRIC_NAMES,
	METRIC_NAMESPACE,
	SERVICE_NAMES,
} from "../observability/metric-names.ts";
import { storeFromEnvironment } from "../store/client.ts";
import { reconcileReservations } from "../store/reconcile.ts";

const log = loggerFor(SERVICE_NAMES.reconciler);
const metrics = new Metrics({
	namespace: METRIC_NAMESPACE,
	serviceName: SERVICE_NAMES.reconciler,
});

/** Counts of one run, as logged and returned. */
export interface ReconcilerSummary {
	examined: number;
	released: number;
	alreadyDone: number;
	failed: number;
	pastExpiryBefore: number;
	latencyMs: number;
}

/**
 * Runs the reconciler once. The past-expiry count is published on every
 * successful run, zero included, because the backlog alarm treats a missing
 * value as a stopped reconciler. A run that cannot query the index publishes
 * nothing and throws, so that alarm fires.
 */
export async function handler(
	event?: Partial<ScheduledEvent>,
	context?: Partial<Context>,
): Promise<ReconcilerSummary> {
	const started = Date.now();
	const invocationId = context?.awsRequestId ?? event?.id;
	let result: Awaited<ReturnType<typeof reconcileReservations>>;
	try {
		result = await reconcileReservations(storeFromEnvironment());
	} catch (error) {
		log.error("reconciler run failed", {
			invocationId,
			...errorSummary(error),
		});
		throw error;
	}

	metrics.addMetric(
		METRIC_NAMES.openReservationsPastExpiry,
		MetricUnit.Count,
		result.pastExpiryBefore,
	);
	metrics.publishStoredMetrics();
	for (const failure of result.failures) {
		log.error("reservation release failed; the next run retries it", {
			requestId: failure.requestId,
			workspaceId: failure.workspaceId,
			...errorSummary(failure.error),
		});
	}
	const summary: ReconcilerSummary = {
		examined: result.examined,
		released: result.released,
		alreadyDone: result.alreadyDone,
		failed: result.failed,
		pastExpiryBefore: result.pastExpiryBefore,
		latencyMs: Date.now() - started,
	};
	log.info("reconciler run", { invocationId, ...summary });
	return summary;
}
