/**
 * A provider simulator harness for one adapter's integration tests. It starts
 * the simulator before the file's tests, clears its faults, behaviour and
 * request log after each test, and opens the adapter against a route whose
 * base URL is the simulator's path for the provider's wire format.
 */
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import {
	type ProviderAdapter,
	ProviderError,
	type ProviderEvent,
} from "../../functions/providers/types.ts";
import {
	type Simulator,
	startSimulator,
} from "../../infra/local/simulator/server.ts";
import type { CatalogRoute } from "../../shared/catalog.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { chatRequest, collect, testRoute } from "./provider-fixtures.ts";

export interface AdapterHarnessOptions {
	providerId: string;
	providerName: string;
	/** Catalog adapter id, which is also the simulator path of its wire format. */
	wireFormat: "anthropic" | "bedrock";
	adapter: ProviderAdapter;
	upstreamModel: string;
	/** Provider API key passed to `open`, which gets none when this is undefined. */
	apiKey?: string;
}

export interface OpenTestOptions {
	/** Output token limit, 100 by default. */
	maxOutputTokens?: number;
	signal?: AbortSignal;
}

export interface AdapterHarness {
	/** The running simulator, available once the file's `beforeAll` has run. */
	readonly simulator: Simulator;
	/**
	 * Builds the provider's route to the simulator in its own wire format, or
	 * in the OpenAI format for comparison.
	 */
	catalogRoute(
		wireFormat: AdapterHarnessOptions["wireFormat"] | "openai",
		timeoutMs?: number,
	): CatalogRoute;
	/** Opens the adapter on the provider's own wire-format route. */
	open(
		request: ChatCompletionRequest,
		options?: OpenTestOptions,
	): Promise<AsyncIterable<ProviderEvent>>;
	/**
	 * Opens and reads a stream that must fail, and returns its ProviderError.
	 * The test fails when the adapter succeeds or throws another error type.
	 */
	openFailure(
		request: ChatCompletionRequest,
		route?: CatalogRoute,
	): Promise<ProviderError>;
}

/** Registers the simulator hooks for the calling test file. */
export function useAdapterSimulator(
	options: AdapterHarnessOptions,
): AdapterHarness {
	let simulator: Simulator | undefined;

	beforeAll(async () => {
		simulator = await startSimulator();
	});

	afterEach(() => {
		simulator?.clearFaults();
		simulator?.clearBehaviour();
		simulator?.clearRequests();
	});

	afterAll(async () => {
		await simulator?.stop();
	});

	function running(): Simulator {
		if (!simulator)
			throw new Error(
				"The simulator is not running yet. Use it inside a test or hook.",
			);
		return simulator;
	}

	function catalogRoute(
		wireFormat: AdapterHarnessOptions["wireFormat"] | "openai",
		timeoutMs = 5_000,
	): CatalogRoute {
		const providerUrl = `${running().url}/p/${options.providerId}`;
		return testRoute({
			providerId: options.providerId,
			providerName: options.providerName,
			adapter: wireFormat,
			baseUrl:
				wireFormat === "openai"
					? `${providerUrl}/openai/v1`
					: `${providerUrl}/${wireFormat}`,
			upstreamModel: options.upstreamModel,
			timeoutMs,
		});
	}

	function openRoute(
		route: CatalogRoute,
		request: ChatCompletionRequest,
		openOptions: OpenTestOptions = {},
	) {
		return options.adapter.open(route, request, {
			signal: openOptions.signal ?? new AbortController().signal,
			...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
			maxOutputTokens: openOptions.maxOutputTokens ?? 100,
		});
	}

	return {
		get simulator() {
			return running();
		},
		catalogRoute,
		open: (request, openOptions) =>
			openRoute(catalogRoute(options.wireFormat), request, openOptions),
		async openFailure(request, route = catalogRoute(options.wireFormat)) {
			try {
				await collect(await openRoute(route, request));
			} catch (error) {
				expect(error).toBeInstanceOf(ProviderError);
				return error as ProviderError;
			}
			throw new Error("expected the adapter to fail");
		},
	};
}

/** A get_weather tool that requires a `city` string. */
export const weatherTool = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Current weather of a city",
		parameters: {
			type: "object",
			properties: { city: { type: "string" } },
			required: ["city"],
		},
	},
};

/** A system prompt and a short user message. */
export const hello = chatRequest({
	messages: [
		{ role: "system", content: "Be brief." },
		{ role: "user", content: "hello there world" },
	],
});
