import { createResource, createSignal, For, onMount, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import { formatDateTime, formatUsd } from "../lib/format.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";

interface RequestSummary {
	eventId: string;
	requestId: string;
	action: string;
	createdAt: string;
	model?: string;
	routeId?: string;
	/** HTTP status of the response. */
	status?: string;
	/** Metering outcome of the request, such as `client_disconnected`; absent on older records. */
	usageStatus?: string;
	chargeMicroUsd?: number;
	attempts: number;
}

interface Attempt {
	routeId?: string;
	providerId?: string;
	status?: string | number;
	outcome?: string;
	reason?: string;
	error?: string;
	latencyMs?: number;
}

interface RequestDetail extends RequestSummary {
	candidates: string[];
	excluded: { routeId: string; reasons: string[] }[];
	attemptList: Attempt[];
	fallbacks: { from?: string; to?: string; reason?: string }[];
	details: Record<string, unknown>;
}

const USAGE_STATUS_TEXT: Record<string, string> = {
	completed: "completed",
	client_disconnected: "client disconnected",
	provider_failed_mid_stream: "provider failed mid-stream",
	expired: "expired",
};

/**
 * Describes how a request ended: its usage status when recorded, because a
 * stream the client dropped still returned HTTP 200, else the HTTP status.
 */
function outcomeOf(entry: RequestSummary): string {
	if (entry.usageStatus) {
		return USAGE_STATUS_TEXT[entry.usageStatus] ?? entry.usageStatus;
	}
	return entry.status ?? entry.action;
}

/** Recent requests and the audit trail of one: route, candidates, attempts. */
function Requests() {
	const [requests] = createResource(() =>
		portal<{ requests: RequestSummary[] }>("/requests").then(
			(data) => data.requests,
		),
	);
	const [selected, setSelected] = createSignal<string>();
	const [detail] = createResource(selected, (id) =>
		portal<{ request: RequestDetail }>(
			`/requests/${encodeURIComponent(id)}`,
		).then((data) => data.request),
	);

	onMount(() => {
		const fromHash = window.location.hash.slice(1);
		if (fromHash) setSelected(decodeURIComponent(fromHash));
	});

	return (
		<>
			<Show
				when={!requests.error}
				fallback={<ErrorNotice error={requests.error} />}
			>
				<Show when={requests()} fallback={<Loading what="recent requests" />}>
					{(list) => (
						<div class="table-wrap">
							<table>
								<caption>Recent requests, newest first</caption>
								<thead>
									<tr>
										<th scope="col">Time</th>
										<th scope="col">Request</th>
										<th scope="col">Model</th>
										<th scope="col">Route</th>
										<th scope="col">Status</th>
										<th scope="col" class="num">
											Attempts
										</th>
										<th scope="col" class="num">
											Charge
										</th>
									</tr>
								</thead>
								<tbody>
									<Show when={list().length === 0}>
										<tr>
											<td colspan="7">No requests yet.</td>
										</tr>
									</Show>
									<For each={list()}>
										{(entry) => (
											<tr>
												<td>{formatDateTime(entry.createdAt)}</td>
												<td>
													<a
														href={`#${entry.requestId}`}
														onClick={() => setSelected(entry.requestId)}
													>
														<code>{entry.requestId}</code>
													</a>
												</td>
												<td>{entry.model ?? "—"}</td>
												<td>{entry.routeId ?? "—"}</td>
												<td data-testid="request-status">{outcomeOf(entry)}</td>
												<td class="num">{entry.attempts}</td>
												<td class="num">
													{entry.chargeMicroUsd === undefined
														? "—"
														: formatUsd(entry.chargeMicroUsd)}
												</td>
											</tr>
										)}
									</For>
								</tbody>
							</table>
						</div>
					)}
				</Show>
			</Show>
			<Show when={selected()}>
				<section class="card" aria-live="polite">
					<Show
						when={!detail.error}
						fallback={<ErrorNotice error={detail.error} />}
					>
						<Show when={detail()} fallback={<Loading what="the audit trail" />}>
							{(request) => (
								<>
									<h2>Request {request().requestId}</h2>
									<dl>
										<dt>Model</dt>
										<dd>{request().model ?? "—"}</dd>
										<dt>Route used</dt>
										<dd>{request().routeId ?? "none"}</dd>
										<dt>Outcome</dt>
										<dd>
											{outcomeOf(request())}
											{request().usageStatus && request().status
												? ` (HTTP ${request().status})`
												: ""}
										</dd>
										<dt>Candidates, in order</dt>
										<dd>{request().candidates.join(" → ") || "none"}</dd>
									</dl>
									<h3>Excluded routes</h3>
									<Show
										when={request().excluded.length > 0}
										fallback={<p>None.</p>}
									>
										<ul>
											<For each={request().excluded}>
												{(entry) => (
													<li>
														<code>{entry.routeId}</code>:{" "}
														{entry.reasons.join(", ")}
													</li>
												)}
											</For>
										</ul>
									</Show>
									<h3>Attempts and fallbacks</h3>
									<Show
										when={request().attemptList.length > 0}
										fallback={<p>No attempt recorded.</p>}
									>
										<ol>
											<For each={request().attemptList}>
												{(attempt) => (
													<li>
														{attempt.routeId ?? attempt.providerId ?? "route"}:{" "}
														{String(attempt.outcome ?? attempt.status ?? "")}
														{attempt.reason || attempt.error
															? ` (${attempt.reason ?? attempt.error})`
															: ""}
														{attempt.latencyMs !== undefined
															? `, ${attempt.latencyMs} ms`
															: ""}
													</li>
												)}
											</For>
										</ol>
									</Show>
									<Show when={request().fallbacks.length > 0}>
										<ul>
											<For each={request().fallbacks}>
												{(fallback) => (
													<li>
														Fell back from {fallback.from ?? "?"} to{" "}
														{fallback.to ?? "?"}
														{fallback.reason ? `: ${fallback.reason}` : ""}
													</li>
												)}
											</For>
										</ul>
									</Show>
									<details>
										<summary>All recorded fields</summary>
										<pre>{JSON.stringify(request().details, null, 2)}</pre>
									</details>
								</>
							)}
						</Show>
					</Show>
				</section>
			</Show>
		</>
	);
}

export default withErrorNotice(Requests);
