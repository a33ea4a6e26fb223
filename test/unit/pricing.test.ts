import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	affordableOutputTokens,
	priceTokens,
	priceUsage,
	type TokenPrice,
	type TokenUsage,
	worstCaseChargeMicroUsd,
} from "../../shared/pricing.ts";

/** $2.50 input, $1.25 cached input, $10.00 output per million tokens. */
const GPT_4O: TokenPrice = {
	inputMicroUsdPerMillionTokens: 2_500_000,
	cachedInputMicroUsdPerMillionTokens: 1_250_000,
	outputMicroUsdPerMillionTokens: 10_000_000,
};

function usage(overrides: Partial<TokenUsage>): TokenUsage {
	return {
		promptTokens: 0,
		cachedPromptTokens: 0,
		completionTokens: 0,
		reasoningTokens: 0,
		...overrides,
	};
}

describe("priceTokens", () => {
	it("prices the reference case exactly", () => {
		const charge = priceTokens(
			usage({
				promptTokens: 2006,
				cachedPromptTokens: 1920,
				completionTokens: 300,
			}),
			GPT_4O,
		);

		// 86 × 2.5 + 1920 × 1.25 + 300 × 10 = 215 + 2400 + 3000 micro-USD
		expect(charge).toBe(5615);
	});

	it("rounds a fraction up", () => {
		const charge = priceTokens(usage({ promptTokens: 1 }), GPT_4O);

		expect(charge).toBe(3);
	});

	it("rounds the total, not components", () => {
		const halfMicroUsd: TokenPrice = {
			inputMicroUsdPerMillionTokens: 500_000,
			cachedInputMicroUsdPerMillionTokens: 500_000,
			outputMicroUsdPerMillionTokens: 500_000,
		};

		const charge = priceTokens(
			usage({ promptTokens: 2, cachedPromptTokens: 1, completionTokens: 1 }),
			halfMicroUsd,
		);

		// Three half micro-USD components: 1.5 rounds up once to 2, not 3.
		expect(charge).toBe(2);
	});

	it("counts reasoning tokens once", () => {
		const base = usage({ promptTokens: 100, completionTokens: 300 });

		const withoutReasoning = priceTokens(base, GPT_4O);
		const withReasoning = priceTokens(
			{ ...base, reasoningTokens: 200 },
			GPT_4O,
		);

		expect(withReasoning).toBe(withoutReasoning);
		expect(withReasoning).toBe(3250);
	});

	it("charges zero for no tokens", () => {
		expect(priceTokens(usage({}), GPT_4O)).toBe(0);
	});

	it("stays exact beyond 2^53 intermediates", () => {
		const expensive: TokenPrice = {
			inputMicroUsdPerMillionTokens: 1_000_000_000,
			cachedInputMicroUsdPerMillionTokens: 0,
			outputMicroUsdPerMillionTokens: 0,
		};

		const charge = priceTokens(
			usage({ promptTokens: 10_000_000_001 }),
			expensive,
		);

		expect(charge).toBe(10_000_000_001_000);
	});

	it.each([
		[
			"negative tokens",
			{ promptTokens: -1 },
			/promptTokens must be a non-negative integer/,
		],
		["fractional tokens", { completionTokens: 1.5 }, /completionTokens/],
		[
			"more cached than prompt",
			{ promptTokens: 1, cachedPromptTokens: 2 },
			/exceeds promptTokens/,
		],
	])("rejects %s", (_case, overrides, message) => {
		expect(() => priceTokens(usage(overrides), GPT_4O)).toThrow(message);
	});

	it("never undercharges the exact amount", () => {
		fc.assert(
			fc.property(
				fc.nat(1_000_000),
				fc.nat(1_000_000),
				fc.nat(1_000_000),
				(prompt, cachedShare, completion) => {
					const cached = Math.min(prompt, cachedShare);
					const charge = priceTokens(
						usage({
							promptTokens: prompt,
							cachedPromptTokens: cached,
							completionTokens: completion,
						}),
						GPT_4O,
					);
					const exactTimesMillion =
						BigInt(prompt - cached) * 2_500_000n +
						BigInt(cached) * 1_250_000n +
						BigInt(completion) * 10_000_000n;

					expect(BigInt(charge) * 1_000_000n >= exactTimesMillion).toBe(true);
					expect(
						BigInt(charge - 1) * 1_000_000n < exactTimesMillion || charge === 0,
					).toBe(true);
				},
			),
		);
	});
});

describe("priceUsage", () => {
	it("returns charge, cost and margin", () => {
		const providerCost: TokenPrice = {
			inputMicroUsdPerMillionTokens: 2_000_000,
			cachedInputMicroUsdPerMillionTokens: 1_000_000,
			outputMicroUsdPerMillionTokens: 8_000_000,
		};

		const priced = priceUsage(
			usage({
				promptTokens: 2006,
				cachedPromptTokens: 1920,
				completionTokens: 300,
			}),
			GPT_4O,
			providerCost,
		);

		expect(priced).toEqual({
			chargeMicroUsd: 5615,
			providerCostMicroUsd: 4492,
			grossMarginMicroUsd: 1123,
		});
	});
});

describe("worstCaseChargeMicroUsd", () => {
	it("prices every token uncached", () => {
		expect(worstCaseChargeMicroUsd(2006, 300, GPT_4O)).toBe(8015);
	});
});

describe("affordableOutputTokens", () => {
	it("fits the largest affordable output", () => {
		fc.assert(
			fc.property(fc.nat(100_000), fc.nat(10_000_000), (prompt, budget) => {
				const tokens = affordableOutputTokens(prompt, budget, GPT_4O);

				if (worstCaseChargeMicroUsd(prompt, 0, GPT_4O) > budget) {
					expect(tokens).toBe(0);
					return;
				}
				expect(
					worstCaseChargeMicroUsd(prompt, tokens, GPT_4O),
				).toBeLessThanOrEqual(budget);
				expect(
					worstCaseChargeMicroUsd(prompt, tokens + 1, GPT_4O),
				).toBeGreaterThan(budget);
			}),
		);
	});

	it("returns zero when the prompt alone is over budget", () => {
		expect(affordableOutputTokens(1_000, 1, GPT_4O)).toBe(0);
	});
});
