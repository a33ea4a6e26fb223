import { createResource, createSignal, For, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import {
	formatDateTime,
	formatRoutePrice,
	formatUsd,
	RETENTION_LABELS,
	WORKLOAD_LABELS,
} from "../lib/format.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";
import type { PolicyRoute } from "./Policy.tsx";
import type { Me } from "./SessionBar.tsx";

interface PurchaseView {
	purchaseId: string;
	status: string;
	items: { description: string; amountMicroUsd: number }[];
	totalMicroUsd: number;
	contact: { name?: string; email: string };
	note?: string;
	createdAt: string;
}

const WORKLOADS = ["text", "coding", "image", "video"];

/** Service coverage, model marketplace and the purchase request form. */
function Marketplace() {
	const [me] = createResource(() => portal<Me>("/me"));
	const [catalog] = createResource(() =>
		portal<{ routes: PolicyRoute[] }>("/catalog").then((data) => data.routes),
	);
	const canBuy = () => me()?.permissions.includes("purchases:write") ?? false;
	const canReadPurchases = () =>
		me()?.permissions.includes("billing:read") ?? false;
	const [purchases, { refetch }] = createResource(canReadPurchases, () =>
		portal<{ purchases: PurchaseView[] }>("/purchases").then(
			(data) => data.purchases,
		),
	);
	const [workload, setWorkload] = createSignal("text");
	const [selected, setSelected] = createSignal<string[]>([]);
	const [submitError, setSubmitError] = createSignal<unknown>();
	const [submitted, setSubmitted] = createSignal<PurchaseView>();

	function toggle(model: string, checked: boolean) {
		setSelected((current) =>
			checked
				? [...new Set([...current, model])]
				: current.filter((entry) => entry !== model),
		);
	}

	async function submit(event: SubmitEvent) {
		event.preventDefault();
		const form = event.currentTarget as HTMLFormElement;
		const data = new FormData(form);
		const text = (name: string) => String(data.get(name) ?? "").trim();
		setSubmitError(undefined);
		try {
			const result = await portal<{ purchase: PurchaseView }>("/purchases", {
				method: "POST",
				body: {
					models: selected(),
					expectedMonthlySpendUsd: text("spend"),
					contact: {
						name: text("contactName"),
						email: text("contactEmail"),
						...(text("company") ? { company: text("company") } : {}),
					},
					...(text("notes") ? { notes: text("notes") } : {}),
				},
			});
			setSubmitted(result.purchase);
			setSelected([]);
			form.reset();
			await refetch();
		} catch (caught) {
			setSubmitError(caught);
		}
	}

	return (
		<>
			<Show
				when={!catalog.error}
				fallback={<ErrorNotice error={catalog.error} />}
			>
				<Show when={catalog()} fallback={<Loading what="the model catalog" />}>
					{(routes) => (
						<>
							<fieldset class="tabs">
								<legend class="visually-hidden">Workload</legend>
								<For each={WORKLOADS}>
									{(entry) => (
										<button
											type="button"
											aria-pressed={workload() === entry}
											onClick={() => setWorkload(entry)}
										>
											{WORKLOAD_LABELS[entry]} (
											{
												routes().filter((route) => route.workload === entry)
													.length
											}
											)
										</button>
									)}
								</For>
							</fieldset>
							<div class="table-wrap">
								<table>
									<caption>{WORKLOAD_LABELS[workload()]} routes</caption>
									<thead>
										<tr>
											<th scope="col">Select</th>
											<th scope="col">Model</th>
											<th scope="col">Provider</th>
											<th scope="col">Price</th>
											<th scope="col">Region</th>
											<th scope="col">Retention</th>
											<th scope="col">Status for you</th>
										</tr>
									</thead>
									<tbody>
										<Show
											when={
												!routes().some((route) => route.workload === workload())
											}
										>
											<tr>
												<td colspan="7">
													No {WORKLOAD_LABELS[workload()]} routes in this cell
													yet.
												</td>
											</tr>
										</Show>
										<For
											each={routes().filter(
												(route) => route.workload === workload(),
											)}
										>
											{(route) => (
												<tr>
													<td>
														<input
															type="checkbox"
															id={`select-${route.id}`}
															aria-label={`Add ${route.model} from ${route.providerName} to the purchase plan`}
															checked={selected().includes(route.model)}
															onChange={(event) =>
																toggle(route.model, event.currentTarget.checked)
															}
														/>
													</td>
													<th scope="row">
														<label for={`select-${route.id}`}>
															{route.model}
														</label>
													</th>
													<td>{route.providerName}</td>
													<td>{formatRoutePrice(route)}</td>
													<td>{route.processingRegion}</td>
													<td>
														{RETENTION_LABELS[route.dataRetention] ??
															route.dataRetention}
													</td>
													<td>
														<span class={`status status-${route.policyStatus}`}>
															{route.policyStatus}
														</span>
														<Show when={route.reasons.length > 0}>
															<p class="hint">
																{route.reasons.map((r) => r.text).join("; ")}
															</p>
														</Show>
													</td>
												</tr>
											)}
										</For>
									</tbody>
								</table>
							</div>
						</>
					)}
				</Show>
			</Show>

			<h2>Purchase plan</h2>
			<Show
				when={canBuy()}
				fallback={
					<p class="hint">
						Owners, admins and billing members submit purchase requests.
					</p>
				}
			>
				<form
					class="card stack"
					onSubmit={submit}
					aria-label="Purchase and onboarding request"
				>
					<p>
						Selected models:{" "}
						<strong data-testid="plan-models">
							{selected().length
								? selected().join(", ")
								: "none yet: tick models above"}
						</strong>
					</p>
					<div class="field-row">
						<div class="field">
							<label for="plan-spend">Expected monthly spend in USD</label>
							<input
								id="plan-spend"
								name="spend"
								type="text"
								inputmode="decimal"
								required
								placeholder="500"
							/>
						</div>
						<div class="field">
							<label for="plan-name">Contact name</label>
							<input
								id="plan-name"
								name="contactName"
								type="text"
								required
								maxlength="100"
							/>
						</div>
						<div class="field">
							<label for="plan-email">Contact email</label>
							<input
								id="plan-email"
								name="contactEmail"
								type="email"
								required
								maxlength="200"
							/>
						</div>
						<div class="field">
							<label for="plan-company">Company (optional)</label>
							<input
								id="plan-company"
								name="company"
								type="text"
								maxlength="200"
							/>
						</div>
					</div>
					<div class="field">
						<label for="plan-notes">Notes for onboarding (optional)</label>
						<textarea id="plan-notes" name="notes" rows="3" maxlength="400" />
					</div>
					<div>
						<button type="submit" disabled={selected().length === 0}>
							Submit purchase request
						</button>
					</div>
					<Show when={submitError()}>
						<ErrorNotice error={submitError()} />
					</Show>
					<Show when={submitted()}>
						{(purchase) => (
							<p
								class="notice success"
								role="status"
								data-testid="purchase-submitted"
							>
								Purchase request {purchase().purchaseId} submitted. An operator
								reviews it and contacts {purchase().contact.email}.
							</p>
						)}
					</Show>
				</form>
			</Show>

			<Show when={canReadPurchases()}>
				<h2>Your purchase requests</h2>
				<Show
					when={!purchases.error}
					fallback={<ErrorNotice error={purchases.error} />}
				>
					<Show
						when={purchases()}
						fallback={<Loading what="purchase requests" />}
					>
						{(list) => (
							<div class="table-wrap">
								<table>
									<thead>
										<tr>
											<th scope="col">Submitted</th>
											<th scope="col">Plan</th>
											<th scope="col" class="num">
												Expected monthly spend
											</th>
											<th scope="col">Contact</th>
											<th scope="col">Status</th>
										</tr>
									</thead>
									<tbody>
										<Show when={list().length === 0}>
											<tr>
												<td colspan="5">No purchase requests yet.</td>
											</tr>
										</Show>
										<For each={list()}>
											{(purchase) => (
												<tr data-testid="purchase-row">
													<td>{formatDateTime(purchase.createdAt)}</td>
													<td>
														{purchase.items
															.map((line) => line.description)
															.join("; ")}
														<Show when={purchase.note}>
															<p class="hint">{purchase.note}</p>
														</Show>
													</td>
													<td class="num">
														{formatUsd(purchase.totalMicroUsd)}
													</td>
													<td>
														{purchase.contact.name ?? ""} (
														{purchase.contact.email})
													</td>
													<td>{purchase.status}</td>
												</tr>
											)}
										</For>
									</tbody>
								</table>
							</div>
						)}
					</Show>
				</Show>
			</Show>
		</>
	);
}

export default withErrorNotice(Marketplace);
