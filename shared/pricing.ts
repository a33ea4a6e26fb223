/**
 * The one pricing function. Every charge, provider cost and reservation in
 * the gateway comes from here, so the rounding rule lives in one place.
 *
 * Rounding rule: the exact amount is Σ tokens × price per million tokens,
 * computed in integers. The total, never a component, is then divided by
 * one million and rounded up to the next whole micro-USD.
 */

/** Prices of one route in integer micro-USD per million tokens. */
export interface TokenPrice {
	inputMicroUsdPerMillionTokens: number;
	cachedInputMicroUsdPerMillionTokens: number;
	outputMicroUsdPerMillionTokens: number;
}

/** Token counts of one request, as providers report them. */
export interface TokenUsage {
	/** All prompt tokens, cached ones included (OpenAI's `prompt_tokens`). */
	promptTokens: number;
	/** The part of `promptTokens` served from the provider's prompt cache. */
	cachedPromptTokens: number;
	/** All completion tokens, reasoning tokens included. */
	completionTokens: number;
	/** The part of `completionTokens` spent on reasoning; priced as output. */
	reasoningTokens: number;
}

const ONE_MILLION = 1_000_000n;

/**
 * Prices token usage in micro-USD, rounded up once on the total.
 * Cached prompt tokens are priced at the cached rate and not again at the
 * full rate; reasoning tokens are already part of completion tokens.
 *
 * @example priceTokens({ promptTokens: 2006, cachedPromptTokens: 1920,
 *   completionTokens: 300, reasoningTokens: 0 }, gpt4o) // 5615 ($0.005615)
 * @throws RangeError on negative or fractional counts, or more cached than prompt tokens.
 */
export function priceTokens(usage: TokenUsage, price: TokenPrice): number {
	for (const [field, count] of Object.entries(usage)) {
		if (!Number.isSafeInteger(count) || count < 0) {
			throw new RangeError(
				`Token count ${field} must be a non-negative integer, got ${count}.`,
			);
		}
	}
	if (usage.cachedPromptTokens > usage.promptTokens) {
		throw new RangeError(
			`cachedPromptTokens (${usage.cachedPromptTokens}) exceeds promptTokens (${usage.promptTokens}).`,
		);
	}
	const uncached = BigInt(usage.promptTokens - usage.cachedPromptTokens);
	const exact =
		uncached * BigInt(price.inputMicroUsdPerMillionTokens) +
		BigInt(usage.cachedPromptTokens) *
			BigInt(price.cachedInputMicroUsdPerMillionTokens) +
		BigInt(usage.completionTokens) *
			BigInt(price.outputMicroUsdPerMillionTokens);
	return Number((exact + ONE_MILLION - 1n) / ONE_MILLION);
}

/** Charge, provider cost and margin of one request, all in micro-USD. */
export interface PricedUsage {
	chargeMicroUsd: number;
	providerCostMicroUsd: number;
	grossMarginMicroUsd: number;
}

/** Prices usage at both the customer price and the provider cost. */
export function priceUsage(
	usage: TokenUsage,
	customerPrice: TokenPrice,
	providerCost: TokenPrice,
): PricedUsage {
	const chargeMicroUsd = priceTokens(usage, customerPrice);
	const providerCostMicroUsd = priceTokens(usage, providerCost);
	return {
		chargeMicroUsd,
		providerCostMicroUsd,
		grossMarginMicroUsd: chargeMicroUsd - providerCostMicroUsd,
	};
}

/**
 * Worst-case charge of a request before it runs: every estimated prompt
 * token uncached, and every allowed output token produced.
 */
export function worstCaseChargeMicroUsd(
	estimatedPromptTokens: number,
	maxOutputTokens: number,
	price: TokenPrice,
): number {
	return priceTokens(
		{
			promptTokens: estimatedPromptTokens,
			cachedPromptTokens: 0,
			completionTokens: maxOutputTokens,
			reasoningTokens: 0,
		},
		price,
	);
}

/**
 * Largest output token count whose worst-case charge fits in a budget,
 * or 0 when not even the prompt fits.
 */
export function affordableOutputTokens(
	estimatedPromptTokens: number,
	budgetMicroUsd: number,
	price: TokenPrice,
): number {
	const promptCost = worstCaseChargeMicroUsd(estimatedPromptTokens, 0, price);
	if (promptCost > budgetMicroUsd) return 0;
	if (price.outputMicroUsdPerMillionTokens === 0) {
		return Number.MAX_SAFE_INTEGER;
	}
	// Output is priced on the same rounded-up total, so step back from the
	// linear estimate until the worst case fits.
	let tokens = Math.floor(
		((budgetMicroUsd - promptCost) * 1_000_000) /
			price.outputMicroUsdPerMillionTokens,
	);
	while (
		tokens > 0 &&
		worstCaseChargeMicroUsd(estimatedPromptTokens, tokens, price) >
			budgetMicroUsd
	) {
		tokens--;
	}
	return tokens;
}
