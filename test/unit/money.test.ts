import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	assertMicroUsd,
	formatUsd,
	MICRO_USD_PER_USD,
	microUsdToUsd,
	parseUsd,
} from "../../shared/money.ts";

describe("parseUsd", () => {
	it.each([
		["10", 10_000_000],
		["0.0421", 42_100],
		["0.000001", 1],
		[" 3 ", 3_000_000],
		["1.", 1_000_000],
		["999999999.999999", 999_999_999_999_999],
		[2.5, 2_500_000],
		[0, 0],
	])("parses %j", (input, expected) => {
		const microUsd = parseUsd(input);

		expect(microUsd).toBe(expected);
	});

	it.each([
		["a negative amount", "-1"],
		["seven decimals", "0.0000001"],
		["a word", "ten"],
		["an empty string", ""],
		["an exponent", "1e3"],
		["ten whole digits", "1000000000"],
		["a float sum", 0.1 + 0.2],
		["a tiny number", 1e-7],
		["NaN", Number.NaN],
	])("rejects %s", (_case, input) => {
		expect(() => parseUsd(input)).toThrow(RangeError);
	});

	it("names the value and the fix", () => {
		expect(() => parseUsd("1.2345678")).toThrow(
			/Invalid USD amount "1.2345678".*at most 6 decimal places/,
		);
	});
});

describe("formatUsd", () => {
	it.each([
		[10_000_000, "$10.00"],
		[5_615, "$0.005615"],
		[0, "$0.00"],
		[100, "$0.0001"],
		[1_234_567_890_000, "$1,234,567.89"],
		[-2_500_000, "-$2.50"],
	])("formats %i", (microUsd, expected) => {
		expect(formatUsd(microUsd)).toBe(expected);
	});

	it("round-trips through parseUsd", () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), (micro) => {
				const text = formatUsd(micro).replace("$", "").replaceAll(",", "");

				expect(parseUsd(text)).toBe(micro);
			}),
		);
	});
});

describe("microUsdToUsd", () => {
	it("divides by one million", () => {
		expect(MICRO_USD_PER_USD).toBe(1_000_000);
		expect(microUsdToUsd(5_615)).toBe(0.005615);
		expect(microUsdToUsd(-1_500_000)).toBe(-1.5);
	});
});

describe("assertMicroUsd", () => {
	it("accepts safe integers", () => {
		expect(assertMicroUsd(0, "amount")).toBe(0);
		expect(assertMicroUsd(-5, "amount")).toBe(-5);
		expect(assertMicroUsd(Number.MAX_SAFE_INTEGER, "amount")).toBe(
			Number.MAX_SAFE_INTEGER,
		);
	});

	it.each([
		["a fraction", 1.5],
		["NaN", Number.NaN],
		["infinity", Number.POSITIVE_INFINITY],
		["an unsafe integer", 2 ** 53],
	])("rejects %s", (_case, value) => {
		expect(() => assertMicroUsd(value, "chargeMicroUsd")).toThrow(
			/chargeMicroUsd must be an integer number of micro-USD/,
		);
	});
});
