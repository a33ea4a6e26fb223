/**
 * Preloaded into the peer gateway's process (`node --import`), because
 * Portkey 1.15.2 has no host option: its server listens on every interface,
 * and some of its plugins call hosts off this machine. The guard makes every
 * listener bind to 127.0.0.1 unless it names a loopback host, and rejects
 * outbound TCP connections to any host that is not loopback.
 */
import net from "node:net";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

type ListenArgs = Parameters<net.Server["listen"]>;

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(
	this: net.Server,
	...args: unknown[]
) {
	const [first, second] = args;
	if (typeof first === "number" || typeof first === "string") {
		if (typeof second !== "string" || !LOOPBACK_HOSTS.has(second)) {
			const rest = typeof second === "string" ? args.slice(2) : args.slice(1);
			return originalListen.apply(this, [
				first,
				"127.0.0.1",
				...rest,
			] as unknown as ListenArgs);
		}
	} else if (first && typeof first === "object" && !("path" in first)) {
		const options = first as net.ListenOptions;
		if (!options.host || !LOOPBACK_HOSTS.has(options.host)) {
			return originalListen.apply(this, [
				{ ...options, host: "127.0.0.1" },
				...args.slice(1),
			] as unknown as ListenArgs);
		}
	}
	return originalListen.apply(this, args as unknown as ListenArgs);
} as typeof originalListen;

type ConnectArgs = Parameters<net.Socket["connect"]>;

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectToLoopback(
	this: net.Socket,
	...args: unknown[]
) {
	const host = connectHost(args);
	if (host !== undefined && !LOOPBACK_HOSTS.has(host)) {
		console.error(`network guard: rejected a connection to ${host}`);
		throw new Error(
			`The benchmark allows loopback connections only; ${host} is not loopback.`,
		);
	}
	return originalConnect.apply(this, args as unknown as ConnectArgs);
} as typeof originalConnect;

/** Host of a `Socket.connect` call, or undefined for a Unix socket path. */
function connectHost(args: unknown[]): string | undefined {
	// net.connect passes its normalized arguments as one array.
	const call = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
	const [first, second] = call;
	if (first && typeof first === "object") {
		const options = first as { host?: string; path?: string };
		if (options.path) return undefined;
		return options.host ?? "localhost";
	}
	if (typeof first === "number" || /^\d+$/.test(String(first))) {
		return typeof second === "string" ? second : "localhost";
	}
	return undefined;
}
