/**
 * Money is held as integer micro-USD (1 USD = 1,000,000 micro-USD).
 * Floats never hold an amount; they appear only when a figure is shown.
 */

export const MICRO_USD_PER_USD = 1_000_000;

/**
 * Parses a decimal USD string or number such as "10", "0.0421" or 2.5 into
 * micro-USD. Rejects more than six decimal places, negatives and non-numbers.
 *
 * @throws RangeError when the value is not a non-negative USD amount.
 */
export function parseUsd(value: string | number): number {
	const text = typeof value === "number" ? String(value) : value.trim();
	const match = /^(\d{1,9})(?:\.(\d{0,6}))?$/.exec(text);
	if (!match) {
		throw new RangeError(
			`Invalid USD amount "${text}": use a number from 0 to 999999999 with at most 6 decimal places, such as 10 or 0.25.`,
		);
	}
	const whole = Number(match[1]);
	const fraction = Number((match[2] ?? "").padEnd(6, "0"));
	return whole * MICRO_USD_PER_USD + fraction;
}

/** Converts micro-USD to a USD number for JSON fields such as `usage.cost`. */
export function microUsdToUsd(microUsd: number): number {
	return microUsd / MICRO_USD_PER_USD;
}

/**
 * Formats micro-USD as a dollar string with the least digits that keep it
 * exact, at least two: 10000000 → "$10.00", 5615 → "$0.005615".
 */
export function formatUsd(microUsd: number): string {
	const sign = microUsd < 0 ? "-" : "";
	const absolute = Math.abs(microUsd);
	const whole = Math.floor(absolute / MICRO_USD_PER_USD);
	const fraction = String(absolute % MICRO_USD_PER_USD)
		.padStart(6, "0")
		.replace(/0+$/, "")
		.padEnd(2, "0");
	return `${sign}$${whole.toLocaleString("en-US")}.${fraction}`;
}

/** Asserts that an amount is a safe integer number of micro-USD. */
export function assertMicroUsd(value: number, field: string): number {
	if (!Number.isSafeInteger(value)) {
		throw new RangeError(
			`${field} must be an integer number of micro-USD, got ${value}.`,
		);
	}
	return value;
}
