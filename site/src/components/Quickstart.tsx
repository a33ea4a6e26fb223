import { createResource, createSignal, For, Show } from "solid-js";
import { homeCell, portal } from "../lib/api.ts";
import CopyButton from "./CopyButton.tsx";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";
import type { PolicyRoute } from "./Policy.tsx";

const WORKLOADS = [
	{
		id: "text",
		label: "Text and chat",
		fallbackModel: "gpt-4o-mini",
		system: "You are a helpful assistant.",
		prompt: "Say hello in one sentence.",
	},
	{
		id: "coding",
		label: "Coding and agents",
		fallbackModel: "claude-sonnet-4",
		system: "You are a coding agent. Answer with code only.",
		prompt: "Write a TypeScript function that reverses a string.",
	},
] as const;

function snippets(
	baseUrl: string,
	model: string,
	system: string,
	prompt: string,
) {
	const body = JSON.stringify(
		{
			model,
			messages: [
				{ role: "system", content: system },
				{ role: "user", content: prompt },
			],
		},
		null,
		2,
	);
	return [
		{
			label: "curl",
			code: `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $GAG_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '${body}'`,
		},
		{
			label: "Node (openai)",
			code: `import OpenAI from "openai";

const client = new OpenAI({
  baseURL: "${baseUrl}",
  apiKey: process.env.GAG_API_KEY,
});

const completion = await client.chat.completions.create({
  model: "${model}",
  messages: [
    { role: "system", content: ${JSON.stringify(system)} },
    { role: "user", content: ${JSON.stringify(prompt)} },
  ],
});
console.log(completion.choices[0].message.content);`,
		},
		{
			label: "Python (openai)",
			code: `import os
from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key=os.environ["GAG_API_KEY"])

completion = client.chat.completions.create(
    model="${model}",
    messages=[
        {"role": "system", "content": ${JSON.stringify(system)}},
        {"role": "user", "content": ${JSON.stringify(prompt)}},
    ],
)
print(completion.choices[0].message.content)`,
		},
	];
}

/** Copyable snippets per workload, prefilled with the home cell's endpoint. */
function Quickstart() {
	const [cell] = createResource(homeCell);
	// Without the catalog (signed out, say) the snippets still render with
	// each workload's fallback model, under the error notice.
	const [routes] = createResource(() =>
		portal<{ routes: PolicyRoute[] }>("/catalog").then((data) => data.routes),
	);
	const [workload, setWorkload] = createSignal<string>("text");
	const current = () =>
		WORKLOADS.find((entry) => entry.id === workload()) ?? WORKLOADS[0];
	const model = () =>
		(routes.error ? undefined : routes())?.find(
			(route) =>
				route.workload === workload() && route.policyStatus === "active",
		)?.model ?? current().fallbackModel;

	return (
		<Show when={!cell.error} fallback={<ErrorNotice error={cell.error} />}>
			<Show when={cell()} fallback={<Loading what="the cell endpoint" />}>
				{(home) => (
					<>
						<Show when={routes.error}>
							<ErrorNotice error={routes.error} />
						</Show>
						<p>
							Your home cell is <strong>{home().name}</strong>. Its endpoint is{" "}
							<code data-testid="endpoint">{home().apiUrl}/v1</code>. Create a
							key on the <a href="/keys/">API keys</a> page and export it as{" "}
							<code>GAG_API_KEY</code>.
						</p>
						<fieldset class="tabs">
							<legend class="visually-hidden">Workload</legend>
							<For each={WORKLOADS}>
								{(entry) => (
									<button
										type="button"
										aria-pressed={workload() === entry.id}
										onClick={() => setWorkload(entry.id)}
									>
										{entry.label}
									</button>
								)}
							</For>
						</fieldset>
						<p class="hint">
							Model <code>{model()}</code> is the first route your policy allows
							for this workload. The API serves chat completions; image and
							video routes are listed on the Models page for purchase plans.
						</p>
						<For
							each={snippets(
								`${home().apiUrl}/v1`,
								model(),
								current().system,
								current().prompt,
							)}
						>
							{(snippet) => (
								<section>
									<h2>{snippet.label}</h2>
									<div class="snippet">
										<pre>
											<code>{snippet.code}</code>
										</pre>
										<CopyButton
											text={snippet.code}
											label={`Copy ${snippet.label}`}
										/>
									</div>
								</section>
							)}
						</For>
					</>
				)}
			</Show>
		</Show>
	);
}

export default withErrorNotice(Quickstart);
