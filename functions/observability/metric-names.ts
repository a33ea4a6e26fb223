/**
 * Names of the custom CloudWatch metrics that the handlers emit in CloudWatch
 * embedded metric format (EMF), and that the CDK alarms and dashboard read.
 * Both sides import this module, so a renamed metric cannot silently leave
 * an alarm watching nothing.
 *
 * Powertools Metrics adds the `service` dimension (the function's
 * POWERTOOLS_SERVICE_NAME) to every metric. The alarms query each metric with
 * exactly that one dimension, so handlers must publish these metrics without
 * extra dimensions.
 */

/** CloudWatch namespace of every custom gateway metric. */
export const METRIC_NAMESPACE = "GlobalAIGateway";

/** Dimension that Powertools Metrics adds to every metric. */
export const SERVICE_DIMENSION = "service";

/** POWERTOOLS_SERVICE_NAME of each function, one per handler folder. */
export const SERVICE_NAMES = {
	chat: "gateway-chat",
	api: "gateway-api",
	portal: "gateway-portal",
	reconciler: "gateway-reconciler",
} as const;

/** Custom metric names. */
export const METRIC_NAMES = {
	/** Chat requests that reached routing (count, emitted by chat once per request). */
	requestCount: "RequestCount",
	/** Chat requests served by a candidate after the first (count, emitted by chat). */
	fallbackCount: "FallbackCount",
	/**
	 * Open reservations whose expiry has passed (count, emitted by the
	 * reconciler on every run, zero included, because the alarm treats a
	 * missing value as a stopped reconciler).
	 */
	openReservationsPastExpiry: "OpenReservationsPastExpiry",
} as const;
