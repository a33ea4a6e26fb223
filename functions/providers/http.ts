/**
 * One fetch wrapper for HTTP adapters: first-byte timeout, abort on client
 * disconnect, and failures classified as ProviderError.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import { providerErrorFromNetwork, providerErrorFromStatus } from "./types.ts";

/**
 * Posts JSON to a provider and returns the response once its headers
 * arrived with a 2xx status. The timeout covers the wait for headers only;
 * idle time inside the stream is bounded by the caller.
 *
 * @throws ProviderError for non-2xx responses, timeouts and network errors.
 */
export async function postJson(
	route: CatalogRoute,
	url: string,
	body: unknown,
	headers: Record<string, string>,
	signal: AbortSignal,
): Promise<Response> {
	const timeout = AbortSignal.timeout(route.timeoutMs);
	const combined = AbortSignal.any([signal, timeout]);
	let response: Response;
	try {
		response = await fetch(url, {
			method: "POST",
			headers: { "content-type": "application/json", ...headers },
			body: JSON.stringify(body),
			signal: combined,
		});
	} catch (error) {
		throw providerErrorFromNetwork(route.providerId, error, timeout.aborted);
	}
	if (!response.ok) {
		let text = "";
		try {
			text = await response.text();
		} catch {
			// The body is optional for classifying the failure.
		}
		throw providerErrorFromStatus(
			route.providerId,
			response.status,
			text,
			response.headers.get("retry-after"),
		);
	}
	if (!response.body) {
		throw providerErrorFromNetwork(
			route.providerId,
			new Error("empty body"),
			false,
		);
	}
	return response;
}
