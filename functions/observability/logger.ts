/**
 * Structured JSON logs with fixed keys (Powertools Logger). Log lines carry
 * ids, routes, statuses, latencies and charges; never a prompt, completion
 * or key secret.
 */
import { Logger } from "@aws-lambda-powertools/logger";

const loggers = new Map<string, Logger>();

/** Returns the logger of a service, created once per process. */
export function loggerFor(serviceName: string): Logger {
	let logger = loggers.get(serviceName);
	if (!logger) {
		logger = new Logger({
			serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
			logLevel: (process.env.POWERTOOLS_LOG_LEVEL ??
				process.env.LOG_LEVEL ??
				"INFO") as "INFO",
		});
		loggers.set(serviceName, logger);
	}
	return logger;
}

/** Describes an error for a log line without its stack or any payload. */
export function errorSummary(error: unknown): {
	errorName: string;
	errorMessage: string;
} {
	if (error instanceof Error) {
		return { errorName: error.name, errorMessage: error.message.slice(0, 300) };
	}
	return { errorName: typeof error, errorMessage: "non-error value thrown" };
}
