import { createResource, For, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import { formatCount, formatUsd } from "../lib/format.ts";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";

interface Overview {
	workspace: { id: string; name: string; cell: string };
	balance: { availableMicroUsd: number; reservedMicroUsd: number };
	keyCount: number;
	activeKeyCount: number;
	/** Absent when the role may not read billing. */
	receiptCount?: number;
	policyProviders: string[];
	routeCounts: { active: number; inactive: number; excluded: number };
	statusLine: string;
}

/** Account overview: balance, keys, receipts, policy and route status. */
function OverviewPanel() {
	const [overview] = createResource(() => portal<Overview>("/overview"));

	return (
		<Show
			when={!overview.error}
			fallback={<ErrorNotice error={overview.error} />}
		>
			<Show
				when={overview()}
				fallback={<Loading what="the account overview" />}
			>
				{(data) => (
					<>
						<p>
							Workspace <strong>{data().workspace.name}</strong> in cell{" "}
							<strong>{data().workspace.cell}</strong>.
						</p>
						<dl class="stats">
							<div>
								<dt>Available credit</dt>
								<dd data-testid="available">
									{formatUsd(data().balance.availableMicroUsd)}
								</dd>
							</div>
							<div>
								<dt>Reserved for requests in flight</dt>
								<dd>{formatUsd(data().balance.reservedMicroUsd)}</dd>
							</div>
							<div>
								<dt>API keys (active / all)</dt>
								<dd>
									{formatCount(data().activeKeyCount)} /{" "}
									{formatCount(data().keyCount)}
								</dd>
							</div>
							<Show when={data().receiptCount !== undefined}>
								<div>
									<dt>Receipts</dt>
									<dd>{formatCount(data().receiptCount ?? 0)}</dd>
								</div>
							</Show>
						</dl>
						<h2>Provider status</h2>
						<div class="card">
							<p role="status" data-testid="status-line">
								{data().statusLine}
							</p>
							<p>
								Providers your policy can use:{" "}
								<Show
									when={data().policyProviders.length > 0}
									fallback={<strong>none</strong>}
								>
									<For each={data().policyProviders}>
										{(provider, index) => (
											<>
												{index() > 0 ? ", " : ""}
												<strong>{provider}</strong>
											</>
										)}
									</For>
								</Show>
								. <a href="/policy/">Review the provider policy</a>.
							</p>
						</div>
					</>
				)}
			</Show>
		</Show>
	);
}

export default withErrorNotice(OverviewPanel);
