/**
 * Fixtures for provider adapter tests: a catalog route built from the few
 * fields a test varies, a parsed chat request, and readers that pick the
 * text, tool calls, finish reason and usage out of normalized events.
 */
import type { ProviderEvent } from "../../functions/providers/types.ts";
import {
	type CatalogRoute,
	type CatalogRouteInput,
	parseCatalog,
} from "../../shared/catalog.ts";
import {
	type ChatCompletionRequest,
	chatCompletionRequestSchema,
} from "../../shared/schemas/chat.ts";

/** Route fields that every adapter test names. The other fields have test defaults. */
export type TestRouteFields = Pick<
	CatalogRouteInput,
	"providerId" | "providerName" | "adapter" | "baseUrl" | "upstreamModel"
> &
	Partial<CatalogRouteInput>;

/**
 * Builds an active `claude-sonnet-4` coding route through the catalog
 * schema, processed in SG with no retention unless `fields` overrides them.
 * Price and cost are $3, $0.30 cached and $15 per million tokens.
 */
export function testRoute(fields: TestRouteFields): CatalogRoute {
	const price = {
		inputMicroUsdPerMillionTokens: 3_000_000,
		cachedInputMicroUsdPerMillionTokens: 300_000,
		outputMicroUsdPerMillionTokens: 15_000_000,
	};
	const [route] = parseCatalog(
		{
			routes: [
				{
					model: "claude-sonnet-4",
					workload: "coding",
					processingRegion: "SG",
					dataRetention: "none",
					resaleAuthorized: true,
					price,
					cost: price,
					loggingPolicy: "metadata",
					sla: "99.9% monthly",
					supportOwner: "ops@example.com",
					status: "active",
					...fields,
				},
			],
		},
		"test",
	);
	return route as CatalogRoute;
}

/** Parses a chat request for `claude-sonnet-4` with the given fields. */
export function chatRequest(
	body: Record<string, unknown>,
): ChatCompletionRequest {
	return chatCompletionRequestSchema.parse({
		model: "claude-sonnet-4",
		...body,
	});
}

/** Reads a provider stream to its end. */
export async function collect(
	events: AsyncIterable<ProviderEvent>,
): Promise<ProviderEvent[]> {
	const collected: ProviderEvent[] = [];
	for await (const event of events) collected.push(event);
	return collected;
}

export function textOf(events: ProviderEvent[]): string {
	return events
		.map((event) => (event.type === "delta" ? (event.content ?? "") : ""))
		.join("");
}

export function toolCallDeltas(events: ProviderEvent[]) {
	return events.flatMap((event) =>
		event.type === "delta" ? (event.toolCalls ?? []) : [],
	);
}

export function finishOf(events: ProviderEvent[]): string | undefined {
	const finish = events.find((event) => event.type === "finish");
	return finish?.type === "finish" ? finish.finishReason : undefined;
}

export function usageOf(events: ProviderEvent[]) {
	const usage = events.find((event) => event.type === "usage");
	return usage?.type === "usage" ? usage.usage : undefined;
}
