import { createUniqueId, For, Show } from "solid-js";
import { formatUsd } from "../lib/format.ts";

export interface Bar {
	label: string;
	/** Integer micro-USD. */
	valueMicroUsd: number;
	requests: number;
}

const ROW_HEIGHT = 26;
const LABEL_WIDTH = 150;
const WIDTH = 640;

/**
 * Horizontal SVG bar chart of amounts. The SVG is labelled for screen
 * readers, each bar has a tooltip, and the same data is in a table below.
 */
export default function BarChart(props: { title: string; bars: Bar[] }) {
	const id = createUniqueId();
	const max = () => Math.max(1, ...props.bars.map((bar) => bar.valueMicroUsd));
	const height = () => Math.max(1, props.bars.length) * ROW_HEIGHT + 8;
	const barWidth = (value: number) =>
		Math.max(value > 0 ? 2 : 0, ((WIDTH - LABEL_WIDTH - 110) * value) / max());

	return (
		<figure class="card" aria-labelledby={`${id}-title`}>
			<figcaption id={`${id}-title`}>
				<h3>{props.title}</h3>
			</figcaption>
			<Show
				when={props.bars.length > 0}
				fallback={<p>No spend in this range.</p>}
			>
				<svg
					class="chart"
					viewBox={`0 0 ${WIDTH} ${height()}`}
					role="img"
					aria-labelledby={`${id}-title ${id}-desc`}
				>
					<title>{props.title}</title>
					<desc id={`${id}-desc`}>
						{props.bars
							.map((bar) => `${bar.label}: ${formatUsd(bar.valueMicroUsd)}`)
							.join("; ")}
					</desc>
					<For each={props.bars}>
						{(bar, index) => (
							<g transform={`translate(0 ${index() * ROW_HEIGHT + 4})`}>
								<title>
									{bar.label}: {formatUsd(bar.valueMicroUsd)} in {bar.requests}{" "}
									requests
								</title>
								<text
									x={LABEL_WIDTH - 6}
									y={ROW_HEIGHT / 2 + 3}
									text-anchor="end"
								>
									{bar.label.length > 22
										? `${bar.label.slice(0, 21)}…`
										: bar.label}
								</text>
								<rect
									class="bar"
									x={LABEL_WIDTH}
									y={3}
									height={ROW_HEIGHT - 8}
									width={barWidth(bar.valueMicroUsd)}
									rx={3}
								/>
								<text
									x={LABEL_WIDTH + barWidth(bar.valueMicroUsd) + 6}
									y={ROW_HEIGHT / 2 + 3}
								>
									{formatUsd(bar.valueMicroUsd)}
								</text>
							</g>
						)}
					</For>
				</svg>
				<details>
					<summary>Show as table</summary>
					<div class="table-wrap">
						<table>
							<thead>
								<tr>
									<th scope="col">Item</th>
									<th scope="col" class="num">
										Requests
									</th>
									<th scope="col" class="num">
										Spend
									</th>
								</tr>
							</thead>
							<tbody>
								<For each={props.bars}>
									{(bar) => (
										<tr>
											<th scope="row">{bar.label}</th>
											<td class="num">{bar.requests}</td>
											<td class="num">{formatUsd(bar.valueMicroUsd)}</td>
										</tr>
									)}
								</For>
							</tbody>
						</table>
					</div>
				</details>
			</Show>
		</figure>
	);
}
