import type { Writable } from "node:stream";
import type { ProviderEvent } from "../providers/types.ts";
import type { IdempotencyRecord } from "../store/metering.ts";
import {
	type CompletionMeta,
	eventChunk,
	roleChunk,
	usageChunk,
	type usageObject,
} from "./openai-format.ts";
import { EventStream, writeJson } from "./response.ts";
import type { RequestState } from "./state.ts";

export async function replay(
	responseStream: Writable,
	state: RequestState,
	record: IdempotencyRecord,
): Promise<void> {
	const completion = JSON.parse(record.response as string) as {
		id: string;
		created: number;
		model: string;
		choices: {
			index: number;
			message: { content: string | null; tool_calls?: unknown[] };
			finish_reason: string;
		}[];
		usage: ReturnType<typeof usageObject>;
	};
	const headers = {
		...state.headers,
		"x-request-id": record.requestId,
		"idempotent-replayed": "true",
	};
	if (state.request?.stream !== true) {
		writeJson(responseStream, 200, completion, headers);
		return;
	}
	const meta: CompletionMeta = {
		id: completion.id,
		created: completion.created,
		model: completion.model,
	};
	const sse = new EventStream(responseStream, headers);
	await sse.send(roleChunk(meta, completion.choices.length));
	for (const choice of completion.choices) {
		const delta: ProviderEvent = {
			type: "delta",
			index: choice.index,
			...(choice.message.content ? { content: choice.message.content } : {}),
			...(choice.message.tool_calls
				? {
						toolCalls: (
							choice.message.tool_calls as {
								id: string;
								function: { name: string; arguments: string };
							}[]
						).map((call, index) => ({
							index,
							id: call.id,
							type: "function" as const,
							function: call.function,
						})),
					}
				: {}),
		};
		await sse.send(eventChunk(meta, delta) as string);
		await sse.send(
			eventChunk(meta, {
				type: "finish",
				index: choice.index,
				finishReason: choice.finish_reason,
			}) as string,
		);
	}
	if (state.request.stream_options?.include_usage)
		await sse.send(usageChunk(meta, completion.usage));
	await sse.send("[DONE]");
	await sse.end();
}
