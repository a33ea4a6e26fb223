/**
 * Checks on the settings of an API key before they are stored. Each failure
 * is a 400 that names the field and the accepted values.
 */
import { KEY_SCOPES, type KeyScope } from "../../shared/api-key.ts";
import { invalidRequest } from "../../shared/errors.ts";
import type { KeyTags, RateLimit } from "./items.ts";

const MAX_NAME_LENGTH = 100;
const MAX_TAG_LENGTH = 100;

/** Checks a key name: 1 to 100 characters after trimming. */
export function checkKeyName(value: string): string {
	const name = typeof value === "string" ? value.trim() : "";
	if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
		throw invalidRequest(
			`Invalid key name "${String(value)}": use 1 to ${MAX_NAME_LENGTH} characters.`,
			"name",
		);
	}
	return name;
}

/** Checks scopes: at least one, each a known scope; duplicates are dropped. */
export function checkScopes(scopes: readonly string[]): KeyScope[] {
	if (!Array.isArray(scopes) || scopes.length === 0) {
		throw invalidRequest(
			`Invalid scopes: give at least one of ${KEY_SCOPES.join(", ")}.`,
			"scopes",
		);
	}
	for (const scope of scopes) {
		if (!(KEY_SCOPES as readonly string[]).includes(scope)) {
			throw invalidRequest(
				`Invalid scope "${scope}". Known scopes: ${KEY_SCOPES.join(", ")}.`,
				"scopes",
			);
		}
	}
	return [...new Set(scopes)] as KeyScope[];
}

/** Checks a model allow-list: absent, or non-empty model ids. */
export function checkAllowedModels(
	models: readonly string[] | undefined,
): string[] | undefined {
	if (models === undefined) return undefined;
	const valid =
		Array.isArray(models) &&
		models.length > 0 &&
		models.every((id) => typeof id === "string" && id.trim().length > 0);
	if (!valid) {
		throw invalidRequest(
			"Invalid allowedModels: list at least one model id, or leave it out to allow every model the policy allows.",
			"allowedModels",
		);
	}
	return [...new Set(models.map((id) => id.trim()))];
}

/** Checks an expiry: an ISO 8601 time in the future, returned normalized. */
export function checkExpiresAt(
	value: string | undefined,
	now: Date,
): string | undefined {
	if (value === undefined) return undefined;
	const time = new Date(value);
	if (Number.isNaN(time.getTime())) {
		throw invalidRequest(
			`Invalid expiresAt "${value}": use an ISO 8601 time such as 2027-01-31T00:00:00Z.`,
			"expiresAt",
		);
	}
	if (time <= now) {
		throw invalidRequest(
			`Invalid expiresAt ${time.toISOString()}: it is in the past. Use a future time.`,
			"expiresAt",
		);
	}
	return time.toISOString();
}

/** Checks tags: project, department and client, each up to 100 characters. */
export function checkTags(tags: KeyTags | undefined): KeyTags {
	const checked: KeyTags = {};
	for (const field of ["project", "department", "client"] as const) {
		const value = tags?.[field];
		if (value === undefined) continue;
		const trimmed = typeof value === "string" ? value.trim() : "";
		if (trimmed.length === 0 || trimmed.length > MAX_TAG_LENGTH) {
			throw invalidRequest(
				`Invalid tag ${field} "${String(value)}": use 1 to ${MAX_TAG_LENGTH} characters.`,
				`tags.${field}`,
			);
		}
		checked[field] = trimmed;
	}
	return checked;
}

/** Checks a rate limit: each given limit a positive integer. */
export function checkRateLimit(
	rateLimit: RateLimit | undefined,
): RateLimit | undefined {
	if (rateLimit === undefined) return undefined;
	for (const field of ["requestsPerMinute", "tokensPerMinute"] as const) {
		const value = rateLimit[field];
		if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
			throw invalidRequest(
				`Invalid rateLimit.${field} ${String(value)}: use a positive integer.`,
				`rateLimit.${field}`,
			);
		}
	}
	return { ...rateLimit };
}
