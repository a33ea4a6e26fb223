/**
 * Helpers over the API Gateway REST proxy event that every handler reads.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { invalidRequest, payloadTooLarge } from "../../shared/errors.ts";

/** Largest request body the gateway accepts, in bytes (API Gateway's limit). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Reads a header case-insensitively. */
export function header(
	event: Pick<APIGatewayProxyEvent, "headers">,
	name: string,
): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(event.headers ?? {})) {
		if (key.toLowerCase() === wanted && value !== undefined) return value;
	}
	return undefined;
}

/**
 * Decodes the body and parses it as a JSON object.
 *
 * @throws GatewayError 413 for an oversized body, 400 for invalid UTF-8,
 *   invalid JSON or a JSON value that is not an object.
 */
export function parseJsonBody(
	event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">,
): Record<string, unknown> {
	const raw = event.body ?? "";
	const bytes = event.isBase64Encoded
		? Buffer.from(raw, "base64")
		: Buffer.from(raw, "utf8");
	if (bytes.length > MAX_BODY_BYTES) {
		throw payloadTooLarge(
			`Request body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES} bytes. Shorten the messages or split the request.`,
		);
	}
	if (bytes.length === 0) {
		throw invalidRequest(
			"Request body is empty: send a JSON object with model and messages.",
		);
	}
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
	} catch {
		throw invalidRequest(
			"Request body is not valid UTF-8: encode it as UTF-8 JSON.",
		);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (error) {
		const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
		throw invalidRequest(
			`Request body is not valid JSON${detail}.`,
			null,
			"invalid_json",
		);
	}
	if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
		throw invalidRequest(
			"Request body must be a JSON object with model and messages.",
		);
	}
	return parsed as Record<string, unknown>;
}

/** Request id of this call: API Gateway's, else the Lambda invocation's. */
export function requestIdOf(
	event: Pick<APIGatewayProxyEvent, "requestContext">,
	fallback: string,
): string {
	return event.requestContext?.requestId ?? fallback;
}
