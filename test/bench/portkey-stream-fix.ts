/**
 * Preloaded into the Portkey gateway's process so that it can stream.
 *
 * Portkey 1.15.2 wraps a streamed upstream response as
 * `new Response(readable, upstreamResponse)` and then appends its own
 * headers. The installed `@hono/node-server` (1.19.19, which Portkey's
 * `^1.3.3` range resolves to) replaces the global `Response` with a
 * lightweight class that reuses `upstreamResponse.headers`, and the headers
 * of a fetch response are immutable, so every streamed request fails with
 * `TypeError: immutable`. This preload gives streamed fetch responses a
 * mutable copy of their headers: one `Headers` and one `Response` object
 * more per streamed request, with the body passed through untouched.
 */
const NativeResponse = globalThis.Response;
const originalFetch = globalThis.fetch;

globalThis.fetch = async function fetchWithMutableStreamHeaders(
	input: Parameters<typeof fetch>[0],
	init?: Parameters<typeof fetch>[1],
): Promise<Response> {
	const response = await originalFetch(input, init);
	const contentType = response.headers.get("content-type") ?? "";
	if (!contentType.startsWith("text/event-stream")) return response;
	return new NativeResponse(response.body, {
		status: response.status,
		statusText: response.statusText,
		headers: new Headers(response.headers),
	});
};
