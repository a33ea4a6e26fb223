/**
 * Chat completions handler, streamed through API Gateway's response
 * streaming. Thin: it builds the invocation and hands over to serveChat.
 */
import type { Writable } from "node:stream";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { storeFromEnvironment } from "../store/client.ts";
import { newRequestId } from "../store/ids.ts";
import { serveChat } from "./complete.ts";

/** Lambda's limit for a streamed response, and the chat function's timeout. */
const DEFAULT_FUNCTION_TIMEOUT_MS = 15 * 60 * 1000;

export const handler = awslambda.streamifyResponse(
	async (
		event: APIGatewayProxyEvent,
		responseStream: Writable,
		context: Context,
	) => {
		await serveChat(event, responseStream, {
			store: storeFromEnvironment(),
			cellId: process.env.CELL_ID ?? "global",
			requestId: newRequestId(),
			remainingTimeMs: () => context.getRemainingTimeInMillis(),
			functionTimeoutMs: Number(
				process.env.FUNCTION_TIMEOUT_MS ?? DEFAULT_FUNCTION_TIMEOUT_MS,
			),
		});
	},
);
