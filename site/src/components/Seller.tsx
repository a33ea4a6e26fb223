import { createResource, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";

interface Seller {
	name: string;
	address: string;
	country: string;
	taxId: string;
	supportEmail: string;
	website: string;
	platform: string;
}

/** Shows the seller of record that sells the credit, and the platform line. */
function SellerPanel() {
	const [seller] = createResource(() =>
		portal<{ seller: Seller }>("/seller").then((data) => data.seller),
	);
	const row = (label: string, value: string) =>
		value ? (
			<>
				<dt>{label}</dt>
				<dd>{value}</dd>
			</>
		) : null;

	return (
		<Show when={!seller.error} fallback={<ErrorNotice error={seller.error} />}>
			<Show when={seller()} fallback={<Loading what="the seller of record" />}>
				{(data) => (
					<section class="card">
						<p>
							Service Credit is sold by{" "}
							<strong data-testid="seller-name">{data().name}</strong>, the
							seller of record on every receipt.
						</p>
						<dl>
							{row("Address", data().address)}
							{row("Country", data().country)}
							{row("Tax id", data().taxId)}
							{row("Support", data().supportEmail)}
							{row("Website", data().website)}
						</dl>
						<p class="hint">{data().platform}</p>
					</section>
				)}
			</Show>
		</Show>
	);
}

export default withErrorNotice(SellerPanel);
