/**
 * Usage routes: spend per day, model and key over a time range, and the
 * same events as CSV. Operators also get provider cost and gross margin.
 */
import { invalidRequest } from "../../../shared/errors.ts";
import { formatUsd } from "../../../shared/money.ts";
import { listApiKeys } from "../../store/api-keys.ts";
import type { UsageEventItem } from "../../store/items.ts";
import { listUsageEvents } from "../../store/usage.ts";
import type { RouteContext } from "../context.ts";
import { json, type PortalResponse } from "../http.ts";
import { requireWorkspaceKey } from "./keys.ts";

const DAY_MS = 86_400_000;
/** Maximum range of one report, in days. */
const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

interface UsageFilter {
	from: Date;
	to: Date;
	keyId?: string;
	model?: string;
}

function parseBound(value: string, field: "from" | "to"): Date {
	const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
	const time = new Date(
		day
			? `${value}T${field === "from" ? "00:00:00.000" : "23:59:59.999"}Z`
			: value,
	);
	if (Number.isNaN(time.getTime())) {
		throw invalidRequest(
			`Invalid ${field} "${value}": use a day (yyyy-mm-dd, UTC) or an ISO 8601 time.`,
			field,
		);
	}
	return time;
}

/** Reads `from`, `to`, `keyId` and `model`; the range defaults to 30 days. */
async function readFilter(context: RouteContext): Promise<UsageFilter> {
	const { query } = context.request;
	const to = query.to ? parseBound(query.to, "to") : new Date();
	const from = query.from
		? parseBound(query.from, "from")
		: new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
	if (from > to) {
		throw invalidRequest(
			`Invalid range: from ${from.toISOString()} is after to ${to.toISOString()}.`,
			"from",
		);
	}
	if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
		throw invalidRequest(
			`Invalid range: at most ${MAX_RANGE_DAYS} days per report. Narrow from or to.`,
			"from",
		);
	}
	const filter: UsageFilter = { from, to };
	if (query.keyId) {
		await requireWorkspaceKey(context, query.keyId);
		filter.keyId = query.keyId;
	}
	if (query.model) filter.model = query.model;
	return filter;
}

async function readEvents(
	context: RouteContext,
	filter: UsageFilter,
): Promise<UsageEventItem[]> {
	const events = await listUsageEvents(
		context.store,
		context.caller.workspaceId,
		{
			from: filter.from,
			to: filter.to,
			oldestFirst: true,
			...(filter.keyId ? { keyId: filter.keyId } : {}),
		},
	);
	return filter.model
		? events.filter((event) => event.model === filter.model)
		: events;
}

interface Bucket {
	requests: number;
	chargeMicroUsd: number;
}

function addTo(buckets: Map<string, Bucket>, name: string, charge: number) {
	const bucket = buckets.get(name) ?? { requests: 0, chargeMicroUsd: 0 };
	bucket.requests += 1;
	bucket.chargeMicroUsd += charge;
	buckets.set(name, bucket);
}

export async function usageReport(
	context: RouteContext,
): Promise<PortalResponse> {
	const filter = await readFilter(context);
	const [events, keys] = await Promise.all([
		readEvents(context, filter),
		listApiKeys(context.store, context.caller.workspaceId),
	]);
	const keyNames = new Map(keys.map((key) => [key.keyId, key.name]));

	const daily = new Map<string, Bucket>();
	const byModel = new Map<string, Bucket>();
	const byKey = new Map<string, Bucket>();
	const totals = {
		requests: 0,
		chargeMicroUsd: 0,
		promptTokens: 0,
		completionTokens: 0,
		providerCostMicroUsd: 0,
		grossMarginMicroUsd: 0,
	};
	for (const event of events) {
		addTo(daily, event.createdAt.slice(0, 10), event.chargeMicroUsd);
		addTo(byModel, event.model, event.chargeMicroUsd);
		addTo(byKey, event.keyId, event.chargeMicroUsd);
		totals.requests += 1;
		totals.chargeMicroUsd += event.chargeMicroUsd;
		totals.promptTokens += event.promptTokens;
		totals.completionTokens += event.completionTokens;
		totals.providerCostMicroUsd += event.providerCostMicroUsd;
		totals.grossMarginMicroUsd += event.grossMarginMicroUsd;
	}
	const { providerCostMicroUsd, grossMarginMicroUsd, ...customerTotals } =
		totals;

	return json({
		from: filter.from.toISOString(),
		to: filter.to.toISOString(),
		totals: context.caller.operator ? totals : customerTotals,
		daily: [...daily].map(([day, bucket]) => ({ day, ...bucket })),
		byModel: [...byModel]
			.map(([model, bucket]) => ({ model, ...bucket }))
			.sort((a, b) => b.chargeMicroUsd - a.chargeMicroUsd),
		byKey: [...byKey]
			.map(([keyId, bucket]) => ({
				keyId,
				name: keyNames.get(keyId) ?? keyId,
				...bucket,
			}))
			.sort((a, b) => b.chargeMicroUsd - a.chargeMicroUsd),
		models: [...new Set(events.map((event) => event.model))].sort(),
	});
}

/**
 * Quotes a CSV cell. Cells that a spreadsheet would run as a formula
 * (leading `=`, `+`, `-`, `@`) get a leading apostrophe, since key names
 * and tags are user input.
 */
function csvCell(value: string | number): string {
	let text = String(value);
	if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function usageCsv(context: RouteContext): Promise<PortalResponse> {
	const filter = await readFilter(context);
	const [events, keys] = await Promise.all([
		readEvents(context, filter),
		listApiKeys(context.store, context.caller.workspaceId),
	]);
	const keyNames = new Map(keys.map((key) => [key.keyId, key.name]));
	const operator = context.caller.operator;

	const header = [
		"created_at",
		"request_id",
		"key_id",
		"key_name",
		"model",
		"provider_id",
		"status",
		"prompt_tokens",
		"cached_prompt_tokens",
		"completion_tokens",
		"reasoning_tokens",
		"charge_micro_usd",
		"charge_usd",
		...(operator ? ["provider_cost_micro_usd", "gross_margin_micro_usd"] : []),
	];
	const rows = events.map((event) => [
		event.createdAt,
		event.requestId,
		event.keyId,
		keyNames.get(event.keyId) ?? "",
		event.model,
		event.providerId,
		event.status,
		event.promptTokens,
		event.cachedPromptTokens,
		event.completionTokens,
		event.reasoningTokens,
		event.chargeMicroUsd,
		formatUsd(event.chargeMicroUsd),
		...(operator
			? [event.providerCostMicroUsd, event.grossMarginMicroUsd]
			: []),
	]);
	const text = [header, ...rows]
		.map((row) => row.map(csvCell).join(","))
		.join("\r\n");
	const day = (date: Date) => date.toISOString().slice(0, 10);

	return {
		status: 200,
		body: undefined,
		text: `${text}\r\n`,
		headers: {
			"content-type": "text/csv; charset=utf-8",
			"content-disposition": `attachment; filename="usage-${day(filter.from)}-to-${day(filter.to)}.csv"`,
		},
	};
}
