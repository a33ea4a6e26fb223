/**
 * Provider health in this function instance: a provider that rejects the
 * gateway's credentials, or fails several times in a row, cools down and is
 * left out of routing until the cooldown ends.
 */

/** Consecutive retryable failures that start a cooldown. */
const FAILURES_BEFORE_COOLDOWN = 3;
/** Cooldown after repeated failures, in milliseconds. */
const FAILURE_COOLDOWN_MS = 30_000;
/** Cooldown after a 401 or 403 from the provider, in milliseconds. */
const AUTH_COOLDOWN_MS = 300_000;

interface Health {
	consecutiveFailures: number;
	coolingUntil: number;
}

const health = new Map<string, Health>();

function entry(providerId: string): Health {
	let value = health.get(providerId);
	if (!value) {
		value = { consecutiveFailures: 0, coolingUntil: 0 };
		health.set(providerId, value);
	}
	return value;
}

/** Records a success, which ends any failure streak. */
export function recordSuccess(providerId: string): void {
	const value = entry(providerId);
	value.consecutiveFailures = 0;
	value.coolingUntil = 0;
}

/** Records a retryable failure; the third in a row starts a cooldown. */
export function recordFailure(providerId: string, now = Date.now()): void {
	const value = entry(providerId);
	value.consecutiveFailures++;
	if (value.consecutiveFailures >= FAILURES_BEFORE_COOLDOWN) {
		value.coolingUntil = now + FAILURE_COOLDOWN_MS;
	}
}

/** Marks a provider unhealthy after it rejected the gateway's credentials. */
export function recordAuthFailure(providerId: string, now = Date.now()): void {
	entry(providerId).coolingUntil = now + AUTH_COOLDOWN_MS;
}

/** Providers cooling down now. */
export function unhealthyProviders(now = Date.now()): Set<string> {
	const result = new Set<string>();
	for (const [providerId, value] of health) {
		if (value.coolingUntil > now) result.add(providerId);
	}
	return result;
}

/** Forgets all health state; tests use it. */
export function resetProviderHealth(): void {
	health.clear();
}
