import {
	type GatewayError,
	invalidRequest,
	rateLimited,
	upstreamFailed,
} from "../../shared/errors.ts";
import type { ProviderError } from "../providers/types.ts";

export function failureToGatewayError(
	error: ProviderError | undefined,
): GatewayError {
	if (!error)
		return upstreamFailed(
			503,
			"No provider could be reached. Retry later.",
			"no_provider_available",
		);
	switch (error.kind) {
		case "client_error":
			return invalidRequest(
				`The provider rejected the request: ${error.message}`,
				null,
				"provider_rejected_request",
			);
		case "rate_limited":
			return rateLimited(
				"Every compliant provider is rate limiting this model. Retry after the time in the Retry-After header.",
				error.retryAfterSeconds ?? 1,
				"provider_rate_limited",
			);
		case "timeout":
			return upstreamFailed(
				504,
				"Every compliant provider timed out. Retry, or lower max_tokens.",
				"provider_timeout",
			);
		case "auth":
			return upstreamFailed(
				502,
				"The gateway's provider credentials were rejected. The operator has been alerted; retry later.",
				"provider_auth_failed",
			);
		default:
			return upstreamFailed(
				error.status === 503 ? 503 : 502,
				"Every compliant provider failed to answer. Retry later.",
				"provider_unavailable",
			);
	}
}
