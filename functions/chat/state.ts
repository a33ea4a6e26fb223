/**
 * The state one chat request carries through its steps: the invocation,
 * and what each step learned (key, request, route plan, attempts).
 */

import type { RoutePlan } from "../../shared/routing.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import type { AuthenticatedKey } from "../auth/authenticate.ts";
import type { Store } from "../store/client.ts";
import type { AttemptRecord } from "./attempts.ts";

export interface ChatInvocation {
	store: Store;
	cellId: string;
	requestId: string;
	/** Milliseconds the function may still run. */
	remainingTimeMs: () => number;
	/** The function's timeout, which bounds a reservation's life. */
	functionTimeoutMs: number;
}

export interface RequestState {
	invocation: ChatInvocation;
	started: number;
	auth?: AuthenticatedKey;
	request?: ChatCompletionRequest;
	plan?: RoutePlan;
	attempts: AttemptRecord[];
	headers: Record<string, string>;
}
