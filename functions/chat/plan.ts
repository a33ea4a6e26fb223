import { getCell } from "../../infra/cells.ts";
import type { CatalogRoute } from "../../shared/catalog.ts";
import {
	invalidRequest,
	notFound,
	permissionDenied,
} from "../../shared/errors.ts";
import { describeExclusions, planRoutes } from "../../shared/routing.ts";
import {
	type ChatCompletionRequest,
	chatCompletionRequestSchema,
} from "../../shared/schemas/chat.ts";
import { unhealthyProviders } from "../providers/health.ts";
import type { RequestState } from "./state.ts";

export function validate(body: Record<string, unknown>): ChatCompletionRequest {
	const result = chatCompletionRequestSchema.safeParse(body);
	if (result.success) return result.data;
	const issue = result.error.issues[0];
	const param = issue?.path.join(".") || null;
	throw invalidRequest(
		`Invalid request: ${param ? `${param}: ` : ""}${issue?.message ?? "the body does not match the chat completions schema"}. See the OpenAI chat completions reference for the expected shape.`,
		param,
	);
}

/** Orders healthy candidates first; providers cooling down are tried last. */
function preferHealthy(candidates: CatalogRoute[]): CatalogRoute[] {
	const cooling = unhealthyProviders();
	if (cooling.size === 0) return candidates;
	return [
		...candidates.filter((route) => !cooling.has(route.providerId)),
		...candidates.filter((route) => cooling.has(route.providerId)),
	];
}

export function planOrThrow(
	state: RequestState,
	catalog: CatalogRoute[],
): CatalogRoute[] {
	const { auth, request } = state as Required<
		Pick<RequestState, "auth" | "request">
	>;
	const cell = getCell(state.invocation.cellId);
	const plan = planRoutes({
		model: request.model,
		policy: auth.workspace.policy,
		cell,
		key: { allowedModels: auth.key.allowedModels, scopes: auth.key.scopes },
		catalog,
	});
	state.plan = plan;
	if (!plan.modelKnown) {
		throw notFound(
			`The model "${request.model}" does not exist in this cell. GET /v1/models lists the models this key may use.`,
			"model_not_found",
			"model",
		);
	}
	if (plan.candidates.length > 0) return preferHealthy(plan.candidates);
	const reasons = new Set(plan.excluded.flatMap((entry) => entry.reasons));
	if (reasons.size === 1 && reasons.has("workload_not_chat")) {
		throw invalidRequest(
			`The model "${request.model}" is not a chat model; chat completions serve text and coding models.`,
			"model",
			"model_not_supported",
		);
	}
	if (
		plan.excluded.every((entry) =>
			entry.reasons.includes("model_not_allowed_for_key"),
		)
	) {
		throw permissionDenied(
			`API key ${auth.key.keyId} may not use the model "${request.model}". Its allowed models are: ${(auth.key.allowedModels ?? []).join(", ")}.`,
			"model_not_allowed",
			"model",
		);
	}
	throw permissionDenied(
		`No compliant route serves "${request.model}" for this workspace in cell ${cell.id}: ${describeExclusions(plan.excluded)}. Change the workspace policy or pick another model.`,
		"no_compliant_route",
		"model",
	);
}
