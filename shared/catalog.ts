/**
 * The provider catalog: one entry per model route, with every fact an
 * operator checks before selling it. Catalog files are validated with this
 * schema when they load, so a typo fails at start-up, not on a request.
 */
import { z } from "zod";

const microUsd = z.number().int().nonnegative();

export const tokenPriceSchema = z.object({
	inputMicroUsdPerMillionTokens: microUsd,
	cachedInputMicroUsdPerMillionTokens: microUsd,
	outputMicroUsdPerMillionTokens: microUsd,
});

export const WORKLOADS = ["text", "coding", "image", "video"] as const;
export const ADAPTERS = ["openai", "anthropic", "bedrock"] as const;

export const catalogRouteSchema = z
	.object({
		providerId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/),
		providerName: z.string().min(1),
		adapter: z.enum(ADAPTERS),
		/** Base URL of the provider API; `${SIMULATOR_URL}` is filled in locally. */
		baseUrl: z.string().min(1),
		/** Model id that clients send. */
		model: z.string().min(1),
		/** Model id sent to the provider, when it differs from `model`. */
		upstreamModel: z.string().min(1).optional(),
		workload: z.enum(WORKLOADS),
		processingRegion: z.enum(["SG", "US", "CN", "EU", "global"]),
		dataRetention: z.enum(["none", "provider_standard"]),
		resaleAuthorized: z.boolean(),
		/** Customer price; token routes only. */
		price: tokenPriceSchema.optional(),
		/** Provider cost; token routes only. */
		cost: tokenPriceSchema.optional(),
		/** Image and video routes are priced per image or per second. */
		unit: z.enum(["token", "image", "second"]).default("token"),
		unitPriceMicroUsd: microUsd.optional(),
		unitCostMicroUsd: microUsd.optional(),
		apiKeyScope: z.string().default("chat.completions"),
		loggingPolicy: z.enum(["metadata", "none", "full"]),
		sla: z.string(),
		supportOwner: z.string(),
		status: z.enum(["active", "inactive"]),
		/** Lower goes first among compliant candidates. */
		priority: z.number().int().default(100),
		/** Key of this provider's API key in the cell's provider secret. */
		secretName: z.string().optional(),
		maxOutputTokens: z.number().int().positive().default(4096),
		/** Milliseconds to wait for the first upstream byte before falling back. */
		timeoutMs: z.number().int().positive().default(30_000),
	})
	.refine((route) => route.unit !== "token" || (route.price && route.cost), {
		message: "token routes need both price and cost",
	})
	.refine(
		(route) =>
			route.unit === "token" ||
			(route.unitPriceMicroUsd !== undefined &&
				route.unitCostMicroUsd !== undefined),
		{
			message:
				"image and video routes need unitPriceMicroUsd and unitCostMicroUsd",
		},
	);

export const catalogSchema = z.object({
	routes: z.array(catalogRouteSchema).min(1),
});

export type CatalogRouteInput = z.input<typeof catalogRouteSchema>;
export type CatalogRoute = z.output<typeof catalogRouteSchema> & {
	/** `<providerId>/<model>`. */
	id: string;
};

/**
 * Validates a parsed catalog file and adds route ids.
 *
 * @throws Error listing each invalid field with its route index.
 */
export function parseCatalog(data: unknown, source: string): CatalogRoute[] {
	const result = catalogSchema.safeParse(data);
	if (!result.success) {
		const problems = result.error.issues
			.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
			.join("; ");
		throw new Error(`Invalid provider catalog ${source}: ${problems}.`);
	}
	const routes = result.data.routes.map((route) => ({
		...route,
		id: `${route.providerId}/${route.model}`,
	}));
	const seen = new Set<string>();
	for (const route of routes) {
		if (seen.has(route.id)) {
			throw new Error(
				`Invalid provider catalog ${source}: route ${route.id} appears twice.`,
			);
		}
		seen.add(route.id);
	}
	return routes;
}
