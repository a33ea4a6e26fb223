/**
 * Checks on money amounts that enter the store. Amounts are integer micro-USD
 * (see `shared/money.ts`); a bad amount is a 400 that names the field.
 */
import { invalidRequest } from "../../shared/errors.ts";
import { formatUsd } from "../../shared/money.ts";

/** Largest single amount the store accepts: $1,000,000,000. */
export const MAX_AMOUNT_MICRO_USD = 1_000_000_000 * 1_000_000;

/**
 * Checks that an amount is a positive integer number of micro-USD.
 *
 * @throws GatewayError (400) naming the field and the value.
 */
export function requirePositiveMicroUsd(value: number, field: string): number {
	requireMicroUsd(value, field);
	if (value <= 0) {
		throw invalidRequest(
			`Invalid ${field}: ${formatUsd(value)}. Use an amount greater than $0.`,
			field,
		);
	}
	return value;
}

/**
 * Checks that an amount is zero or a positive integer number of micro-USD.
 *
 * @throws GatewayError (400) naming the field and the value.
 */
export function requireNonNegativeMicroUsd(
	value: number,
	field: string,
): number {
	requireMicroUsd(value, field);
	if (value < 0) {
		throw invalidRequest(
			`Invalid ${field}: ${formatUsd(value)}. Use zero or a positive amount.`,
			field,
		);
	}
	return value;
}

function requireMicroUsd(value: number, field: string): void {
	if (typeof value !== "number" || !Number.isSafeInteger(value)) {
		throw invalidRequest(
			`Invalid ${field}: ${String(value)}. Amounts are integer micro-USD (1 USD = 1000000).`,
			field,
		);
	}
	if (Math.abs(value) > MAX_AMOUNT_MICRO_USD) {
		throw invalidRequest(
			`Invalid ${field}: ${formatUsd(value)} is above the ${formatUsd(MAX_AMOUNT_MICRO_USD)} limit of a single amount.`,
			field,
		);
	}
}
