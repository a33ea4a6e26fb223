import {
	createEffect,
	createResource,
	createSignal,
	For,
	Show,
} from "solid-js";
import { portal } from "../lib/api.ts";
import { formatDateTime, formatUsd } from "../lib/format.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";

interface ReceiptView {
	receiptId: string;
	kind: "usage" | "purchase";
	amountMicroUsd: number;
	description: string;
	createdAt: string;
	requestId?: string;
	keyId?: string;
	model?: string;
	providerId?: string;
	sellerOfRecord: string;
	/** Operators only. */
	providerCostMicroUsd?: number;
	/** Operators only. */
	grossMarginMicroUsd?: number;
}

/** Purchase and usage receipts; operators also see cost and margin. */
function Receipts() {
	const [receipts] = createResource(() =>
		portal<{ receipts: ReceiptView[]; operator: boolean }>("/receipts"),
	);
	const [selected, setSelected] = createSignal<string>();
	const [detail] = createResource(selected, (id) =>
		portal<{ receipt: ReceiptView }>(
			`/receipts/${encodeURIComponent(id)}`,
		).then((data) => data.receipt),
	);
	let detailHeading: HTMLHeadingElement | undefined;

	// The details render below the whole table, so move focus there (which
	// also scrolls them into view) once they load; otherwise a click on Show
	// in a long list seems to do nothing.
	createEffect(() => {
		if (detail() && !detail.loading) detailHeading?.focus();
	});

	function show(receiptId: string) {
		if (selected() === receiptId) detailHeading?.focus();
		else setSelected(receiptId);
	}

	return (
		<Show
			when={!receipts.error}
			fallback={<ErrorNotice error={receipts.error} />}
		>
			<Show when={receipts()} fallback={<Loading what="receipts" />}>
				{(data) => (
					<>
						<div class="table-wrap">
							<table>
								<caption>Receipts, newest first</caption>
								<thead>
									<tr>
										<th scope="col">Date</th>
										<th scope="col">Kind</th>
										<th scope="col">Description</th>
										<th scope="col">Model</th>
										<th scope="col" class="num">
											Customer charge
										</th>
										<Show when={data().operator}>
											<th scope="col" class="num">
												Provider cost
											</th>
											<th scope="col" class="num">
												Gross margin
											</th>
										</Show>
										<th scope="col">Details</th>
									</tr>
								</thead>
								<tbody>
									<Show when={data().receipts.length === 0}>
										<tr>
											<td colspan="8">No receipts yet.</td>
										</tr>
									</Show>
									<For each={data().receipts}>
										{(receipt) => (
											<tr data-testid="receipt-row">
												<td>{formatDateTime(receipt.createdAt)}</td>
												<td>{receipt.kind}</td>
												<td>{receipt.description}</td>
												<td>{receipt.model ?? "—"}</td>
												<td class="num">{formatUsd(receipt.amountMicroUsd)}</td>
												<Show when={data().operator}>
													<td class="num">
														{receipt.providerCostMicroUsd === undefined
															? "—"
															: formatUsd(receipt.providerCostMicroUsd)}
													</td>
													<td class="num">
														{receipt.grossMarginMicroUsd === undefined
															? "—"
															: formatUsd(receipt.grossMarginMicroUsd)}
													</td>
												</Show>
												<td>
													<button
														type="button"
														class="secondary"
														onClick={() => show(receipt.receiptId)}
														aria-label={`Show receipt ${receipt.receiptId}`}
													>
														Show
													</button>
												</td>
											</tr>
										)}
									</For>
								</tbody>
							</table>
						</div>
						<Show when={selected()}>
							<section class="card" aria-live="polite">
								<Show
									when={!detail.error}
									fallback={<ErrorNotice error={detail.error} />}
								>
									<Show
										when={detail()}
										fallback={<Loading what="the receipt" />}
									>
										{(receipt) => (
											<>
												<h2 ref={detailHeading} tabindex="-1">
													Receipt {receipt().receiptId}
												</h2>
												<dl>
													<dt>Seller of record</dt>
													<dd>{receipt().sellerOfRecord}</dd>
													<dt>Date</dt>
													<dd>{formatDateTime(receipt().createdAt)}</dd>
													<dt>Description</dt>
													<dd>{receipt().description}</dd>
													<dt>Customer charge</dt>
													<dd>{formatUsd(receipt().amountMicroUsd)}</dd>
													<Show when={receipt().requestId}>
														<dt>Request</dt>
														<dd>
															<a href={`/requests/#${receipt().requestId}`}>
																{receipt().requestId}
															</a>
														</dd>
													</Show>
													<Show
														when={receipt().providerCostMicroUsd !== undefined}
													>
														<dt>Provider cost (operators)</dt>
														<dd>
															{formatUsd(receipt().providerCostMicroUsd ?? 0)}
														</dd>
														<dt>Gross margin (operators)</dt>
														<dd>
															{formatUsd(receipt().grossMarginMicroUsd ?? 0)}
														</dd>
													</Show>
												</dl>
											</>
										)}
									</Show>
								</Show>
							</section>
						</Show>
					</>
				)}
			</Show>
		</Show>
	);
}

export default withErrorNotice(Receipts);
