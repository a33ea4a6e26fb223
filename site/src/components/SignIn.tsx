import { createSignal, onMount, Show } from "solid-js";
import { portal, rememberHomeCell } from "../lib/api.ts";
import ErrorNotice from "./ErrorNotice.tsx";

/**
 * Exchanges the one-time token in the link's fragment (`#token=…&cell=…`)
 * for a session cookie, then opens the overview.
 */
export default function SignIn() {
	const [state, setState] = createSignal<"idle" | "working" | "done">("idle");
	const [error, setError] = createSignal<unknown>();

	onMount(async () => {
		const fragment = new URLSearchParams(window.location.hash.slice(1));
		const token = fragment.get("token");
		if (!token) return;
		// Drop the token from the address bar and history before using it.
		history.replaceState(null, "", window.location.pathname);
		const cell = fragment.get("cell");
		if (cell) rememberHomeCell(cell);
		setState("working");
		try {
			await portal("/session", { method: "POST", body: { token } });
			setState("done");
			window.location.assign("/");
		} catch (caught) {
			setError(caught);
			setState("idle");
		}
	});

	return (
		<div class="card">
			<Show when={state() === "working"}>
				<p role="status">Signing you in…</p>
			</Show>
			<Show when={state() === "done"}>
				<p role="status">Signed in. Opening your account overview…</p>
			</Show>
			<Show when={error()}>
				<ErrorNotice error={error()} />
			</Show>
			<Show when={state() === "idle"}>
				<p>
					Sign in with the one-time link your workspace administrator sent you.
					Each link works once and expires after 15 minutes. Running locally,{" "}
					<code>npm start</code> prints a fresh link.
				</p>
			</Show>
		</div>
	);
}
