/** Streaming chat completions handler. */
export const handler = awslambda.streamifyResponse(
	async (_event: unknown, responseStream: import("node:stream").Writable) => {
		const stream = awslambda.HttpResponseStream.from(responseStream, {
			statusCode: 501,
			headers: { "content-type": "application/json" },
		});
		stream.end(JSON.stringify({ error: { message: "Not implemented yet." } }));
	},
);
