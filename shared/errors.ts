/**
 * The gateway's one error family. Each error carries its HTTP status and the
 * OpenAI error `type` and `code`, so every OpenAI SDK raises its matching
 * exception class. Messages never carry a key secret, and carry prompt text
 * only in one case: a provider's own 400 message, returned to the caller
 * who sent that prompt and never logged or stored.
 */

/** OpenAI error body: `{ error: { message, type, param, code } }`. */
export interface OpenAIErrorBody {
	error: {
		message: string;
		type: string;
		param: string | null;
		code: string | null;
	};
}

export interface GatewayErrorOptions {
	param?: string | null;
	/** Extra response headers, such as `retry-after`. */
	headers?: Record<string, string>;
	cause?: unknown;
}

/** Base class: an error with an HTTP status and an OpenAI-shaped body. */
export class GatewayError extends Error {
	readonly status: number;
	readonly type: string;
	readonly code: string;
	readonly param: string | null;
	readonly headers: Record<string, string>;

	constructor(
		status: number,
		type: string,
		code: string,
		message: string,
		options: GatewayErrorOptions = {},
	) {
		super(message, { cause: options.cause });
		this.name = "GatewayError";
		this.status = status;
		this.type = type;
		this.code = code;
		this.param = options.param ?? null;
		this.headers = options.headers ?? {};
	}

	toJSON(): OpenAIErrorBody {
		return {
			error: {
				message: this.message,
				type: this.type,
				param: this.param,
				code: this.code,
			},
		};
	}
}

/** 400: the request body or a parameter is invalid. */
export function invalidRequest(
	message: string,
	param: string | null = null,
	code = "invalid_request",
): GatewayError {
	return new GatewayError(400, "invalid_request_error", code, message, {
		param,
	});
}

/** 401: the API key is missing, malformed, unknown, revoked or expired. */
export function authenticationFailed(
	message: string,
	code = "invalid_api_key",
): GatewayError {
	return new GatewayError(401, "authentication_error", code, message);
}

/** 402: not enough credit or key budget for the worst-case cost. */
export function insufficientCredit(
	message: string,
	code = "insufficient_credit",
): GatewayError {
	return new GatewayError(402, "insufficient_quota", code, message);
}

/** 403: scope, model, region or policy does not allow the request. */
export function permissionDenied(
	message: string,
	code: string,
	param: string | null = null,
): GatewayError {
	return new GatewayError(403, "permission_error", code, message, { param });
}

/** 404: unknown model, receipt, request or route. */
export function notFound(
	message: string,
	code = "not_found",
	param: string | null = null,
): GatewayError {
	return new GatewayError(404, "not_found_error", code, message, { param });
}

/** 409: an idempotency key was reused with another request body. */
export function conflict(message: string, code: string): GatewayError {
	return new GatewayError(409, "conflict_error", code, message);
}

/** 413: the request body is larger than the gateway accepts. */
export function payloadTooLarge(message: string): GatewayError {
	return new GatewayError(
		413,
		"invalid_request_error",
		"request_too_large",
		message,
	);
}

/** 429: a rate limit or an upstream rate limit; carries `retry-after`. */
export function rateLimited(
	message: string,
	retryAfterSeconds: number,
	code = "rate_limit_exceeded",
	headers: Record<string, string> = {},
): GatewayError {
	return new GatewayError(429, "rate_limit_error", code, message, {
		headers: {
			"retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))),
			...headers,
		},
	});
}

/** 502, 503 or 504: every compliant provider failed or timed out. */
export function upstreamFailed(
	status: 502 | 503 | 504,
	message: string,
	code = "provider_error",
): GatewayError {
	return new GatewayError(status, "api_error", code, message);
}

/** 500 for anything unexpected; the cause is logged, never shown. */
export function internalError(cause?: unknown): GatewayError {
	return new GatewayError(
		500,
		"api_error",
		"internal_error",
		"The gateway failed to process the request. Retry it; if it keeps failing, contact support with the x-request-id header.",
		{ cause },
	);
}

/** Wraps any thrown value as a GatewayError, hiding internals. */
export function toGatewayError(error: unknown): GatewayError {
	return error instanceof GatewayError ? error : internalError(error);
}
