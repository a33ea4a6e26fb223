/**
 * The simulator's mutable state: faults and behaviour per provider id, and
 * the log of requests received. Tests change it over HTTP (`/__control/...`)
 * or through the handle that `startSimulator` returns.
 */
import type { Behaviour } from "./completion.ts";

/** A failure to inject into the next requests of one provider. */
export interface Fault {
	/** Answer with this HTTP status and the format's error body. */
	status?: number;
	/** Sent as `retry-after` (seconds) with the status. */
	retryAfterSeconds?: number;
	/** Accept the request, never answer, and close the socket after this many ms. */
	timeoutMs?: number;
	/** Destroy the socket after this many stream chunks (0: before any byte). */
	resetAfterChunks?: number;
	/** Send the format's error event after this many stream chunks. */
	streamErrorAfterChunks?: number;
	/** Number of requests the fault applies to; absent means until cleared. */
	count?: number;
	/** Error message to send; a default names the fault. */
	message?: string;
	/** Apply only to requests for this model. */
	model?: string;
}

/** The wire format a request used. */
export type WireFormat = "openai" | "anthropic" | "bedrock";

/** One entry of the request log. */
export interface LoggedRequest {
	provider: string;
	format: WireFormat;
	path: string;
	model: string | null;
	stream: boolean;
	maxTokens: number | null;
	/** ISO 8601 time the request arrived. */
	time: string;
	/** Whether the request carried an API key or credentials (never the value). */
	hasCredentials: boolean;
	/** The fault applied to the request, if any. */
	fault: Fault | null;
}

const MAX_LOGGED_REQUESTS = 10_000;

/** Faults, behaviour and request log of one simulator. */
export class SimulatorState {
	readonly globalBehaviour: Behaviour;
	private readonly faults = new Map<string, Fault>();
	private readonly behaviours = new Map<string, Behaviour>();
	private log: LoggedRequest[] = [];

	constructor(globalBehaviour: Behaviour) {
		this.globalBehaviour = globalBehaviour;
	}

	setFault(provider: string, fault: Fault): void {
		this.faults.set(provider, { ...fault });
	}

	/** Clears the fault of one provider, or of every provider. */
	clearFaults(provider?: string): void {
		if (provider === undefined) this.faults.clear();
		else this.faults.delete(provider);
	}

	/**
	 * Returns the fault that applies to this request and uses up one of its
	 * count, or null.
	 */
	takeFault(provider: string, model: string | null): Fault | null {
		const fault = this.faults.get(provider);
		if (!fault) return null;
		if (fault.model !== undefined && fault.model !== model) return null;

		if (fault.count !== undefined) {
			fault.count -= 1;
			if (fault.count <= 0) this.faults.delete(provider);
		}
		return { ...fault };
	}

	setBehaviour(provider: string, behaviour: Behaviour): void {
		this.behaviours.set(provider, { ...behaviour });
	}

	clearBehaviour(provider?: string): void {
		if (provider === undefined) this.behaviours.clear();
		else this.behaviours.delete(provider);
	}

	/** Global behaviour overlaid with the provider's. */
	behaviourFor(provider: string): Behaviour {
		return { ...this.globalBehaviour, ...this.behaviours.get(provider) };
	}

	record(entry: LoggedRequest): void {
		this.log.push(entry);
		if (this.log.length > MAX_LOGGED_REQUESTS) {
			this.log = this.log.slice(-MAX_LOGGED_REQUESTS);
		}
	}

	requests(provider?: string): LoggedRequest[] {
		return provider === undefined
			? [...this.log]
			: this.log.filter((entry) => entry.provider === provider);
	}

	clearRequests(): void {
		this.log = [];
	}
}

/**
 * Validates a fault from a control request.
 * @throws Error naming the invalid field.
 */
export function parseFault(input: unknown): Fault {
	if (!input || typeof input !== "object") {
		throw new Error("fault must be an object, for example { status: 503 }.");
	}
	const raw = input as Record<string, unknown>;
	const fault: Fault = readCounts("fault", raw, [
		"status",
		"retryAfterSeconds",
		"timeoutMs",
		"resetAfterChunks",
		"streamErrorAfterChunks",
		"count",
	]);
	if (
		fault.status !== undefined &&
		(fault.status < 400 || fault.status > 599)
	) {
		throw new Error(
			`fault.status must be an HTTP error status (400 to 599), got ${fault.status}.`,
		);
	}
	for (const field of ["message", "model"] as const) {
		const value = raw[field];
		if (value === undefined) continue;
		if (typeof value !== "string") {
			throw new Error(`fault.${field} must be a string.`);
		}
		fault[field] = value;
	}
	return fault;
}

/**
 * Validates a behaviour from a control request.
 * @throws Error naming the invalid field.
 */
export function parseBehaviour(input: unknown): Behaviour {
	if (!input || typeof input !== "object") {
		throw new Error("behaviour must be an object.");
	}
	const raw = input as Record<string, unknown>;
	const behaviour: Behaviour = readCounts("behaviour", raw, [
		"completionTokens",
		"reasoningTokens",
		"firstTokenLatencyMs",
		"tokensPerSecond",
	]);
	const cached = raw.cachedTokens;
	if (cached !== undefined) {
		if (
			cached !== "all" &&
			!(Number.isSafeInteger(cached) && (cached as number) >= 0)
		) {
			throw new Error(
				`behaviour.cachedTokens must be "all" or a non-negative integer, got ${JSON.stringify(cached)}.`,
			);
		}
		behaviour.cachedTokens = cached as number | "all";
	}
	return behaviour;
}

/**
 * Copies the named fields of `raw` that are present, each of which must be
 * a non-negative integer.
 *
 * @throws Error naming the first invalid field as `<label>.<field>`.
 */
function readCounts<Field extends string>(
	label: string,
	raw: Record<string, unknown>,
	fields: readonly Field[],
): Partial<Record<Field, number>> {
	const counts: Partial<Record<Field, number>> = {};
	for (const field of fields) {
		const value = raw[field];
		if (value === undefined) continue;
		if (!Number.isSafeInteger(value) || (value as number) < 0) {
			throw new Error(
				`${label}.${field} must be a non-negative integer, got ${JSON.stringify(value)}.`,
			);
		}
		counts[field] = value as number;
	}
	return counts;
}
