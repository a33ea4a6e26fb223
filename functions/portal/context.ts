/**
 * Arguments of every portal route: the store, the parsed request, the
 * signed-in caller and the path parameters.
 */
import type { Store } from "../store/client.ts";
import type { Caller } from "./auth.ts";
import type { PortalRequest, PortalResponse } from "./http.ts";

export interface RouteContext {
	store: Store;
	request: PortalRequest;
	caller: Caller;
	params: Record<string, string>;
}

export type RouteHandler = (context: RouteContext) => Promise<PortalResponse>;
