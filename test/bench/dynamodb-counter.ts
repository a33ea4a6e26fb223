/**
 * Counting proxy on loopback in front of DynamoDB Local. It forwards every
 * request unchanged and records its operation (the `X-Amz-Target` header,
 * such as `DynamoDB_20120810.TransactWriteItems`) with the times the request
 * arrived and its response ended, on the performance.now() clock of this
 * process, so they line up with the load client's timings.
 */
import {
	createServer,
	request as httpRequest,
	type IncomingMessage,
	type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface DynamoDBCall {
	/** Operation name without the API version prefix, such as `GetItem`. */
	operation: string;
	arrivedAt: number;
	respondedAt: number;
}

export interface DynamoDBCounter {
	/** `http://127.0.0.1:<port>`. */
	endpoint: string;
	/** Calls recorded so far, in arrival order. */
	calls: DynamoDBCall[];
	stop(): Promise<void>;
}

/** Starts the proxy in front of `target`, a DynamoDB Local endpoint. */
export async function startDynamoDBCounter(
	target: string,
): Promise<DynamoDBCounter> {
	const upstream = new URL(target);
	const calls: DynamoDBCall[] = [];

	const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
		const arrivedAt = performance.now();
		const operation = String(incoming.headers["x-amz-target"] ?? "unknown")
			.split(".")
			.at(-1) as string;
		const forwarded = httpRequest(
			{
				host: upstream.hostname,
				port: upstream.port,
				path: incoming.url,
				method: incoming.method,
				headers: incoming.headers,
			},
			(response) => {
				outgoing.writeHead(response.statusCode ?? 502, response.headers);
				response.pipe(outgoing);
				response.on("end", () => {
					calls.push({
						operation,
						arrivedAt,
						respondedAt: performance.now(),
					});
				});
			},
		);
		forwarded.on("error", () => outgoing.destroy());
		incoming.pipe(forwarded);
	});

	await new Promise<void>((resolveListen) =>
		server.listen(0, "127.0.0.1", resolveListen),
	);
	const { port } = server.address() as AddressInfo;
	return {
		endpoint: `http://127.0.0.1:${port}`,
		calls,
		stop: () =>
			new Promise((resolveStop) => {
				server.close(() => resolveStop());
				server.closeAllConnections();
			}),
	};
}
