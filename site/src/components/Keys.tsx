import { createResource, createSignal, For, Show } from "solid-js";
import { portal } from "../lib/api.ts";
import { formatDateTime, formatUsd } from "../lib/format.ts";
import CopyButton from "./CopyButton.tsx";
import ErrorNotice, { Loading, withErrorNotice } from "./ErrorNotice.tsx";
import type { Me } from "./SessionBar.tsx";

export interface KeyView {
	keyId: string;
	name: string;
	prefix: string;
	scopes: string[];
	/** `expired` once `expiresAt` has passed; requests with the key then fail. */
	status: "active" | "revoked" | "expired";
	createdAt: string;
	lastUsedAt?: string;
	expiresAt?: string;
	allowedModels?: string[];
	budgetMicroUsd?: number;
	spentMicroUsd: number;
	tags: { project?: string; department?: string; client?: string };
}

const SCOPES = ["chat.completions", "models.read", "usage.read"];

/** API keys: create (secret shown once), list, revoke, rotate, edit budget. */
function Keys() {
	const [me] = createResource(() => portal<Me>("/me"));
	const [keys, { refetch }] = createResource(() =>
		portal<{ keys: KeyView[] }>("/keys").then((data) => data.keys),
	);
	const [secret, setSecret] = createSignal<{ name: string; key: string }>();
	const [actionError, setActionError] = createSignal<unknown>();
	const [message, setMessage] = createSignal("");
	const [editing, setEditing] = createSignal<string>();

	const canWrite = () => me()?.permissions.includes("keys:write") ?? false;

	async function run(action: () => Promise<void>) {
		setActionError(undefined);
		setMessage("");
		try {
			await action();
			await refetch();
		} catch (caught) {
			setActionError(caught);
		}
	}

	async function create(event: SubmitEvent) {
		event.preventDefault();
		const form = event.currentTarget as HTMLFormElement;
		const data = new FormData(form);
		const text = (name: string) => String(data.get(name) ?? "").trim();
		const allowedModels = text("allowedModels")
			.split(",")
			.map((model) => model.trim())
			.filter(Boolean);
		const body = {
			name: text("name"),
			scopes: data.getAll("scopes").map(String),
			...(text("budgetUsd") ? { budgetUsd: text("budgetUsd") } : {}),
			...(allowedModels.length ? { allowedModels } : {}),
			...(text("expiresOn") ? { expiresOn: text("expiresOn") } : {}),
			tags: {
				...(text("project") ? { project: text("project") } : {}),
				...(text("department") ? { department: text("department") } : {}),
				...(text("client") ? { client: text("client") } : {}),
			},
		};
		await run(async () => {
			const created = await portal<{ key: string; item: KeyView }>("/keys", {
				method: "POST",
				body,
			});
			setSecret({ name: created.item.name, key: created.key });
			form.reset();
		});
	}

	function revoke(key: KeyView) {
		if (!window.confirm(`Revoke ${key.name}? Requests with it fail at once.`)) {
			return;
		}
		void run(async () => {
			await portal(`/keys/${encodeURIComponent(key.keyId)}/revoke`, {
				method: "POST",
			});
			setMessage(`${key.name} is revoked.`);
		});
	}

	function rotate(key: KeyView) {
		const question = `Rotate ${key.name}? This creates a new key and revokes the old one at once: clients still using the old key stop working immediately.`;
		if (!window.confirm(question)) return;
		void run(async () => {
			const rotated = await portal<{ key: string; item: KeyView }>(
				`/keys/${encodeURIComponent(key.keyId)}/rotate`,
				{ method: "POST" },
			);
			setSecret({ name: rotated.item.name, key: rotated.key });
		});
	}

	function saveBudget(event: SubmitEvent, key: KeyView) {
		event.preventDefault();
		const value = String(
			new FormData(event.currentTarget as HTMLFormElement).get("budgetUsd") ??
				"",
		).trim();
		void run(async () => {
			await portal(`/keys/${encodeURIComponent(key.keyId)}`, {
				method: "PATCH",
				body: { budgetUsd: value === "" ? null : value },
			});
			setEditing(undefined);
			setMessage(`Budget of ${key.name} saved.`);
		});
	}

	return (
		<>
			<Show when={secret()}>
				{(shown) => (
					<section
						class="card"
						aria-labelledby="secret-title"
						data-testid="new-secret"
					>
						<h2 id="secret-title">Your new key: {shown().name}</h2>
						<p>
							<strong>Copy it now.</strong> This is the only time the full key
							is shown; afterwards the portal shows only its prefix.
						</p>
						<div class="secret">
							<code data-testid="secret-value">{shown().key}</code>
							<CopyButton text={shown().key} label="Copy key" />
							<button
								type="button"
								class="secondary"
								onClick={() => setSecret(undefined)}
							>
								I have stored it
							</button>
						</div>
					</section>
				)}
			</Show>
			<Show when={actionError()}>
				<ErrorNotice error={actionError()} />
			</Show>
			<Show when={message()}>
				<p class="notice success" role="status">
					{message()}
				</p>
			</Show>

			<Show when={canWrite()}>
				<details class="card" open={keys()?.length === 0}>
					<summary>Create an API key</summary>
					<form class="stack" onSubmit={create} aria-label="Create an API key">
						<div class="field">
							<label for="key-name">Name</label>
							<input
								id="key-name"
								name="name"
								type="text"
								required
								maxlength="100"
							/>
						</div>
						<fieldset>
							<legend>Scopes</legend>
							<div>
								<For each={SCOPES}>
									{(scope) => (
										<label class="choice">
											<input
												type="checkbox"
												name="scopes"
												value={scope}
												checked={scope !== "usage.read"}
											/>
											{scope}
										</label>
									)}
								</For>
							</div>
						</fieldset>
						<div class="field-row">
							<div class="field">
								<label for="key-budget">Budget cap in USD (optional)</label>
								<input
									id="key-budget"
									name="budgetUsd"
									type="text"
									inputmode="decimal"
									placeholder="25.00"
								/>
							</div>
							<div class="field">
								<label for="key-expiry">Expires on (optional)</label>
								<input id="key-expiry" name="expiresOn" type="date" />
							</div>
						</div>
						<div class="field">
							<label for="key-models">
								Allowed models (optional, comma separated)
							</label>
							<input
								id="key-models"
								name="allowedModels"
								type="text"
								placeholder="gpt-4o-mini, claude-sonnet-4"
							/>
							<p class="hint">
								Leave empty to allow every model your provider policy allows.
							</p>
						</div>
						<fieldset>
							<legend>Tags (optional)</legend>
							<div class="field-row">
								<div class="field">
									<label for="key-project">Project</label>
									<input
										id="key-project"
										name="project"
										type="text"
										maxlength="100"
									/>
								</div>
								<div class="field">
									<label for="key-department">Department</label>
									<input
										id="key-department"
										name="department"
										type="text"
										maxlength="100"
									/>
								</div>
								<div class="field">
									<label for="key-client">Downstream client</label>
									<input
										id="key-client"
										name="client"
										type="text"
										maxlength="100"
									/>
								</div>
							</div>
						</fieldset>
						<div>
							<button type="submit">Create key</button>
						</div>
					</form>
				</details>
			</Show>

			<Show when={!keys.error} fallback={<ErrorNotice error={keys.error} />}>
				<Show when={keys()} fallback={<Loading what="API keys" />}>
					{(list) => (
						<div class="table-wrap">
							<table>
								<caption>API keys</caption>
								<thead>
									<tr>
										<th scope="col">Name</th>
										<th scope="col">Prefix</th>
										<th scope="col">Scopes</th>
										<th scope="col">Status</th>
										<th scope="col" class="num">
											Spent / budget
										</th>
										<th scope="col">Created</th>
										<th scope="col">Expires</th>
										<th scope="col">Last used</th>
										<Show when={canWrite()}>
											<th scope="col">Actions</th>
										</Show>
									</tr>
								</thead>
								<tbody>
									<Show when={list().length === 0}>
										<tr>
											<td colspan="9">No API keys yet.</td>
										</tr>
									</Show>
									<For each={list()}>
										{(key) => (
											<tr data-testid={`key-row-${key.name}`}>
												<th scope="row" class="wrap">
													{key.name}
													<Show when={Object.values(key.tags).some(Boolean)}>
														<p class="hint">
															{Object.entries(key.tags)
																.filter(([, value]) => value)
																.map(([tag, value]) => `${tag}: ${value}`)
																.join(" · ")}
														</p>
													</Show>
												</th>
												<td>
													<code>{key.prefix}</code>
												</td>
												<td>{key.scopes.join(", ")}</td>
												<td>
													<span class={`status status-${key.status}`}>
														{key.status}
													</span>
												</td>
												<td class="num">
													{formatUsd(key.spentMicroUsd)} /{" "}
													{key.budgetMicroUsd === undefined
														? "no cap"
														: formatUsd(key.budgetMicroUsd)}
												</td>
												<td>{formatDateTime(key.createdAt)}</td>
												<td>
													{key.expiresAt
														? formatDateTime(key.expiresAt)
														: "never"}
												</td>
												<td>{formatDateTime(key.lastUsedAt)}</td>
												<Show when={canWrite()}>
													<td>
														<Show when={key.status === "active"} fallback="—">
															<div class="actions">
																<button
																	type="button"
																	class="secondary"
																	onClick={() => setEditing(key.keyId)}
																>
																	Edit budget
																</button>
																<button
																	type="button"
																	class="secondary"
																	onClick={() => rotate(key)}
																>
																	Rotate
																</button>
																<button
																	type="button"
																	class="danger"
																	onClick={() => revoke(key)}
																>
																	Revoke
																</button>
															</div>
															<Show when={editing() === key.keyId}>
																<form
																	class="stack"
																	onSubmit={(event) => saveBudget(event, key)}
																>
																	<label for={`budget-${key.keyId}`}>
																		Budget cap in USD (empty removes the cap)
																	</label>
																	<input
																		id={`budget-${key.keyId}`}
																		name="budgetUsd"
																		type="text"
																		inputmode="decimal"
																		value={
																			key.budgetMicroUsd === undefined
																				? ""
																				: formatUsd(key.budgetMicroUsd).replace(
																						/[$,]/g,
																						"",
																					)
																		}
																	/>
																	<div class="actions">
																		<button type="submit">Save budget</button>
																		<button
																			type="button"
																			class="secondary"
																			onClick={() => setEditing(undefined)}
																		>
																			Cancel
																		</button>
																	</div>
																</form>
															</Show>
														</Show>
													</td>
												</Show>
											</tr>
										)}
									</For>
								</tbody>
							</table>
						</div>
					)}
				</Show>
			</Show>
		</>
	);
}

export default withErrorNotice(Keys);
