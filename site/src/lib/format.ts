/**
 * Display helpers. Every amount is integer micro-USD and is formatted by
 * the project's one money formatter.
 */
import { formatUsd } from "../../../shared/money.ts";

export { formatUsd };

export interface TokenPrice {
	inputMicroUsdPerMillionTokens: number;
	cachedInputMicroUsdPerMillionTokens: number;
	outputMicroUsdPerMillionTokens: number;
}

export interface PricedRoute {
	unit: "token" | "image" | "second";
	price?: TokenPrice;
	unitPriceMicroUsd?: number;
}

/** Formats a route's price per 1M tokens, per image or per second. */
export function formatRoutePrice(route: PricedRoute): string {
	if (route.unit === "token" && route.price) {
		return `${formatUsd(route.price.inputMicroUsdPerMillionTokens)} in / ${formatUsd(route.price.outputMicroUsdPerMillionTokens)} out per 1M tokens`;
	}
	if (route.unitPriceMicroUsd !== undefined) {
		return `${formatUsd(route.unitPriceMicroUsd)} per ${route.unit === "image" ? "image" : "second"}`;
	}
	return "price not set";
}

/** Formats a date and time in the reader's locale, or an em dash when absent. */
export function formatDateTime(iso: string | undefined | null): string {
	if (!iso) return "—";
	const date = new Date(iso);
	return Number.isNaN(date.getTime())
		? iso
		: date.toLocaleString(undefined, {
				dateStyle: "medium",
				timeStyle: "short",
			});
}

/** Formats a whole number with thousands separators. */
export function formatCount(value: number): string {
	return value.toLocaleString("en-US");
}

export const WORKLOAD_LABELS: Record<string, string> = {
	text: "Text and chat",
	coding: "Coding and agents",
	image: "Image",
	video: "Video",
};

export const RETENTION_LABELS: Record<string, string> = {
	none: "No retention",
	provider_standard: "Provider standard retention",
};
