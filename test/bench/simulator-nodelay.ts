/**
 * Preloaded into the provider simulator's process. The simulator accepts
 * connections on a plain `net` server (to tell HTTP/1.1 from HTTP/2), and
 * `net` servers leave Nagle's algorithm on, unlike `http` servers. A streamed
 * answer writes its headers and then its first SSE frame as two small
 * packets, so the frame waited for the client's delayed ACK (about 40 ms on
 * Linux) and every streamed TTFB measured 40 ms more than the simulator's
 * configured latency. This preload turns Nagle off on every accepted socket,
 * as `http.createServer` does by default.
 */

import { syncBuiltinESMExports } from "node:module";
import net from "node:net";

const originalCreateServer = net.createServer;
net.createServer = function createServerWithoutNagle(
	...args: Parameters<typeof net.createServer>
): net.Server {
	const server = originalCreateServer(...args);
	server.on("connection", (socket: net.Socket) => socket.setNoDelay(true));
	return server;
} as typeof net.createServer;
syncBuiltinESMExports();
