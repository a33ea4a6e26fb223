import { createResource, createSignal, For, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import {
	formatRoutePrice,
	RETENTION_LABELS,
	WORKLOAD_LABELS,
} from "../lib/format.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";
import type { Me } from "./SessionBar.tsx";

export interface PolicyRoute {
	id: string;
	providerId: string;
	providerName: string;
	model: string;
	workload: string;
	processingRegion: string;
	dataRetention: string;
	loggingPolicy: string;
	status: "active" | "inactive";
	unit: "token" | "image" | "second";
	price?: {
		inputMicroUsdPerMillionTokens: number;
		cachedInputMicroUsdPerMillionTokens: number;
		outputMicroUsdPerMillionTokens: number;
	};
	unitPriceMicroUsd?: number;
	policyStatus: "active" | "inactive" | "excluded";
	reasons: { code: string; text: string }[];
}

interface WorkspacePolicy {
	allowedRegions: string[];
	retention: "none" | "any";
	allowedProviders?: string[];
	allowedModels?: string[];
	logging: "metadata" | "full";
}

export interface PolicyReport {
	policy: WorkspacePolicy;
	cell: { id: string; name: string; routableRegions: string[] };
	routes: PolicyRoute[];
}

const REGIONS = ["SG", "US", "CN", "EU", "global"];

/** Regions the form lists that the workspace's cell does not route to. */
function unroutableRegions(report: PolicyReport): string[] {
	return REGIONS.filter(
		(region) => !report.cell.routableRegions.includes(region),
	);
}

/** Provider policy form and each route's status under it. */
function Policy() {
	const [me] = createResource(() => portal<Me>("/me"));
	const [report, { mutate }] = createResource(() =>
		portal<PolicyReport>("/policy"),
	);
	const [saveError, setSaveError] = createSignal<unknown>();
	// The restrict checkboxes as the user set them; undefined until changed,
	// so the stored policy decides.
	const [restrictProviders, setRestrictProviders] = createSignal<boolean>();
	const [restrictModels, setRestrictModels] = createSignal<boolean>();
	const [saved, setSaved] = createSignal(false);
	const canEdit = () => me()?.permissions.includes("policy:write") ?? false;
	const providers = () => {
		const seen = new Map<string, string>();
		for (const route of report()?.routes ?? []) {
			seen.set(route.providerId, route.providerName);
		}
		return [...seen.entries()];
	};
	const providersRestricted = (data: PolicyReport) =>
		restrictProviders() ?? data.policy.allowedProviders !== undefined;
	const modelsRestricted = (data: PolicyReport) =>
		restrictModels() ?? data.policy.allowedModels !== undefined;
	const models = () => [
		...new Set((report()?.routes ?? []).map((r) => r.model)),
	];

	async function save(event: SubmitEvent) {
		event.preventDefault();
		const data = new FormData(event.currentTarget as HTMLFormElement);
		const list = (name: string) => data.getAll(name).map(String);
		const policy: WorkspacePolicy = {
			allowedRegions: list("allowedRegions"),
			retention: data.get("retention") === "none" ? "none" : "any",
			logging: data.get("logging") === "full" ? "full" : "metadata",
			...(data.get("restrictProviders")
				? { allowedProviders: list("allowedProviders") }
				: {}),
			...(data.get("restrictModels")
				? { allowedModels: list("allowedModels") }
				: {}),
		};
		setSaveError(undefined);
		setSaved(false);
		try {
			mutate(
				await portal<PolicyReport>("/policy", { method: "PUT", body: policy }),
			);
			setSaved(true);
		} catch (caught) {
			setSaveError(caught);
		}
	}

	return (
		<Show when={!report.error} fallback={<ErrorNotice error={report.error} />}>
			<Show when={report()} fallback={<Loading what="the provider policy" />}>
				{(data) => (
					<>
						<form
							class="card stack"
							onSubmit={save}
							aria-label="Provider policy"
						>
							<p class="hint">
								Cell {data().cell.name} routes only to processing regions{" "}
								{data().cell.routableRegions.join(", ")}; your policy can narrow
								that further, never widen it.
							</p>
							<fieldset disabled={!canEdit()}>
								<legend>Allowed processing regions</legend>
								<div>
									<For each={REGIONS}>
										{(region) => (
											<label class="choice">
												<input
													type="checkbox"
													name="allowedRegions"
													value={region}
													disabled={
														!data().cell.routableRegions.includes(region)
													}
													checked={data().policy.allowedRegions.includes(
														region,
													)}
												/>
												{region}
											</label>
										)}
									</For>
								</div>
								<Show when={unroutableRegions(data()).length > 0}>
									<p class="hint" data-testid="unroutable-regions">
										Cell {data().cell.name} does not route to{" "}
										{unroutableRegions(data()).join(", ")}, so those regions
										cannot be allowed here.
									</p>
								</Show>
							</fieldset>
							<fieldset disabled={!canEdit()}>
								<legend>Prompt retention</legend>
								<div>
									<label class="choice">
										<input
											type="radio"
											name="retention"
											value="none"
											checked={data().policy.retention === "none"}
										/>
										Require providers that retain nothing
									</label>
									<label class="choice">
										<input
											type="radio"
											name="retention"
											value="any"
											checked={data().policy.retention === "any"}
										/>
										Allow provider standard retention
									</label>
								</div>
							</fieldset>
							<fieldset disabled={!canEdit()}>
								<legend>Allowed providers</legend>
								<label class="choice">
									<input
										type="checkbox"
										name="restrictProviders"
										value="yes"
										checked={providersRestricted(data())}
										onChange={(event) =>
											setRestrictProviders(event.currentTarget.checked)
										}
									/>
									Only the providers checked below
								</label>
								<div>
									<For each={providers()}>
										{([id, name]) => (
											<label class="choice">
												<input
													type="checkbox"
													name="allowedProviders"
													value={id}
													disabled={!providersRestricted(data())}
													checked={
														data().policy.allowedProviders?.includes(id) ?? true
													}
												/>
												{name}
											</label>
										)}
									</For>
								</div>
							</fieldset>
							<fieldset disabled={!canEdit()}>
								<legend>Allowed models</legend>
								<label class="choice">
									<input
										type="checkbox"
										name="restrictModels"
										value="yes"
										checked={modelsRestricted(data())}
										onChange={(event) =>
											setRestrictModels(event.currentTarget.checked)
										}
									/>
									Only the models checked below
								</label>
								<div>
									<For each={models()}>
										{(model) => (
											<label class="choice">
												<input
													type="checkbox"
													name="allowedModels"
													value={model}
													disabled={!modelsRestricted(data())}
													checked={
														data().policy.allowedModels?.includes(model) ?? true
													}
												/>
												{model}
											</label>
										)}
									</For>
								</div>
							</fieldset>
							<fieldset disabled={!canEdit()}>
								<legend>Logging</legend>
								<div>
									<label class="choice">
										<input
											type="radio"
											name="logging"
											value="metadata"
											checked={data().policy.logging === "metadata"}
										/>
										Metadata only (no prompts or completions)
									</label>
									<label class="choice">
										<input
											type="radio"
											name="logging"
											value="full"
											checked={data().policy.logging === "full"}
										/>
										Full
									</label>
								</div>
							</fieldset>
							<Show
								when={canEdit()}
								fallback={
									<p class="hint">
										Your role can read the policy; owners and admins change it.
									</p>
								}
							>
								<div>
									<button type="submit">Save policy</button>
								</div>
							</Show>
							<Show when={saveError()}>
								<ErrorNotice error={saveError()} />
							</Show>
							<Show when={saved()}>
								<p class="notice success" role="status">
									Policy saved. Route status below reflects it.
								</p>
							</Show>
						</form>
						<h2>Routes under this policy</h2>
						<RouteTable routes={data().routes} />
					</>
				)}
			</Show>
		</Show>
	);
}

/** Table of routes with their status and the reasons a route is excluded. */
export function RouteTable(props: { routes: PolicyRoute[] }) {
	return (
		<div class="table-wrap">
			<table>
				<thead>
					<tr>
						<th scope="col">Route</th>
						<th scope="col">Workload</th>
						<th scope="col">Region</th>
						<th scope="col">Retention</th>
						<th scope="col">Price</th>
						<th scope="col">Status</th>
						<th scope="col">Why</th>
					</tr>
				</thead>
				<tbody>
					<For each={props.routes}>
						{(route) => (
							<tr>
								<th scope="row">
									{route.model}
									<p class="hint">{route.providerName}</p>
								</th>
								<td>{WORKLOAD_LABELS[route.workload] ?? route.workload}</td>
								<td>{route.processingRegion}</td>
								<td>
									{RETENTION_LABELS[route.dataRetention] ?? route.dataRetention}
								</td>
								<td>{formatRoutePrice(route)}</td>
								<td>
									<span class={`status status-${route.policyStatus}`}>
										{route.policyStatus}
									</span>
								</td>
								<td>
									{route.reasons.length === 0
										? "—"
										: route.reasons.map((reason) => reason.text).join("; ")}
								</td>
							</tr>
						)}
					</For>
				</tbody>
			</table>
		</div>
	);
}

export default withErrorNotice(Policy);
