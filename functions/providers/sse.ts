/**
 * Reads a server-sent events body as a sequence of events, using
 * eventsource-parser for the framing.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

/** Yields the SSE events of a fetch response body as they arrive. */
export async function* readServerSentEvents(
	body: ReadableStream<Uint8Array>,
): AsyncGenerator<EventSourceMessage> {
	const pending: EventSourceMessage[] = [];
	const parser = createParser({ onEvent: (event) => pending.push(event) });
	const decoder = new TextDecoder();
	for await (const chunk of body) {
		parser.feed(decoder.decode(chunk, { stream: true }));
		while (pending.length > 0) yield pending.shift() as EventSourceMessage;
	}
	parser.feed(decoder.decode());
	while (pending.length > 0) yield pending.shift() as EventSourceMessage;
}
