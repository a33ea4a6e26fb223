import { createResource, createSignal, For, Show } from "solid-js";
import { portal, portalUrl } from "../lib/api.ts";
import { formatCount, formatUsd } from "../lib/format.ts";
import BarChart from "./BarChart.tsx";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";
import type { KeyView } from "./Keys.tsx";

interface UsageTotals {
	requests: number;
	chargeMicroUsd: number;
	promptTokens: number;
	completionTokens: number;
	providerCostMicroUsd?: number;
	grossMarginMicroUsd?: number;
}

interface UsageReport {
	from: string;
	to: string;
	totals: UsageTotals;
	daily: { day: string; requests: number; chargeMicroUsd: number }[];
	byModel: { model: string; requests: number; chargeMicroUsd: number }[];
	byKey: {
		keyId: string;
		name: string;
		requests: number;
		chargeMicroUsd: number;
	}[];
	models: string[];
}

function isoDay(date: Date): string {
	return date.toISOString().slice(0, 10);
}

/** Usage and spend per day, model and key, with filters and CSV export. */
function Usage() {
	const today = new Date();
	const monthAgo = new Date(today.getTime() - 29 * 86_400_000);
	const [filters, setFilters] = createSignal({
		from: isoDay(monthAgo),
		to: isoDay(today),
		keyId: "",
		model: "",
	});
	const query = () => {
		const params = new URLSearchParams();
		for (const [name, value] of Object.entries(filters())) {
			if (value) params.set(name, value);
		}
		return params.toString();
	};
	const [keys] = createResource(() =>
		portal<{ keys: KeyView[] }>("/keys").then((data) => data.keys),
	);
	const [report] = createResource(query, (params) =>
		portal<UsageReport>(`/usage?${params}`),
	);
	const [csvHref] = createResource(query, (params) =>
		portalUrl(`/usage.csv?${params}`),
	);

	function apply(event: SubmitEvent) {
		event.preventDefault();
		const data = new FormData(event.currentTarget as HTMLFormElement);
		setFilters({
			from: String(data.get("from") ?? ""),
			to: String(data.get("to") ?? ""),
			keyId: String(data.get("keyId") ?? ""),
			model: String(data.get("model") ?? ""),
		});
	}

	return (
		<>
			<form class="card field-row" onSubmit={apply} aria-label="Usage filters">
				<div class="field">
					<label for="usage-from">From</label>
					<input
						id="usage-from"
						name="from"
						type="date"
						value={filters().from}
					/>
				</div>
				<div class="field">
					<label for="usage-to">To</label>
					<input id="usage-to" name="to" type="date" value={filters().to} />
				</div>
				<div class="field">
					<label for="usage-key">API key</label>
					<select id="usage-key" name="keyId">
						<option value="">All keys</option>
						<For each={keys() ?? []}>
							{(key) => (
								<option
									value={key.keyId}
									selected={filters().keyId === key.keyId}
								>
									{key.name} ({key.prefix})
								</option>
							)}
						</For>
					</select>
				</div>
				<div class="field">
					<label for="usage-model">Model</label>
					<select id="usage-model" name="model">
						<option value="">All models</option>
						<For each={report()?.models ?? []}>
							{(model) => (
								<option value={model} selected={filters().model === model}>
									{model}
								</option>
							)}
						</For>
					</select>
				</div>
				<div class="actions" style="align-self: end">
					<button type="submit">Apply filters</button>
					<a
						class="button secondary"
						href={csvHref() ?? "#"}
						download="usage.csv"
					>
						Export CSV
					</a>
				</div>
			</form>

			<Show
				when={!report.error}
				fallback={<ErrorNotice error={report.error} />}
			>
				<Show when={report()} fallback={<Loading what="usage" />}>
					{(data) => (
						<>
							<dl class="stats">
								<div>
									<dt>Spend in range</dt>
									<dd data-testid="usage-total">
										{formatUsd(data().totals.chargeMicroUsd)}
									</dd>
								</div>
								<div>
									<dt>Requests</dt>
									<dd>{formatCount(data().totals.requests)}</dd>
								</div>
								<div>
									<dt>Prompt / completion tokens</dt>
									<dd>
										{formatCount(data().totals.promptTokens)} /{" "}
										{formatCount(data().totals.completionTokens)}
									</dd>
								</div>
								<Show when={data().totals.grossMarginMicroUsd !== undefined}>
									<div>
										<dt>Provider cost / gross margin</dt>
										<dd>
											{formatUsd(data().totals.providerCostMicroUsd ?? 0)} /{" "}
											{formatUsd(data().totals.grossMarginMicroUsd ?? 0)}
										</dd>
									</div>
								</Show>
							</dl>
							<BarChart
								title="Spend per day"
								bars={data().daily.map((entry) => ({
									label: entry.day,
									valueMicroUsd: entry.chargeMicroUsd,
									requests: entry.requests,
								}))}
							/>
							<BarChart
								title="Spend by model"
								bars={data().byModel.map((entry) => ({
									label: entry.model,
									valueMicroUsd: entry.chargeMicroUsd,
									requests: entry.requests,
								}))}
							/>
							<BarChart
								title="Spend by API key"
								bars={data().byKey.map((entry) => ({
									label: entry.name,
									valueMicroUsd: entry.chargeMicroUsd,
									requests: entry.requests,
								}))}
							/>
						</>
					)}
				</Show>
			</Show>
		</>
	);
}

export default withErrorNotice(Usage);
