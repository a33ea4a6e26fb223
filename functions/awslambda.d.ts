/**
 * Types of the `awslambda` global that the Node.js Lambda runtime provides
 * for response streaming. The local runtime installs the same global.
 */
import type { Writable } from "node:stream";
import type { Context } from "aws-lambda";

declare global {
	namespace awslambda {
		type StreamingHandler<TEvent> = (
			event: TEvent,
			responseStream: Writable,
			context: Context,
		) => Promise<void>;

		interface HttpResponseMetadata {
			statusCode: number;
			headers?: Record<string, string>;
			cookies?: string[];
		}

		function streamifyResponse<TEvent>(
			handler: StreamingHandler<TEvent>,
		): StreamingHandler<TEvent>;

		namespace HttpResponseStream {
			function from(stream: Writable, metadata: HttpResponseMetadata): Writable;
		}
	}
}
