import { createResource, Show } from "solid-js";
import { portal } from "../lib/api.ts";

export interface Me {
	userId: string;
	email?: string;
	role: string;
	operator: boolean;
	permissions: string[];
	workspace: { id: string; name: string; cell: string };
}

/**
 * Shows the signed-in user, an "operator view" mark when the session is a
 * platform operator's (who also sees provider cost and gross margin), and a
 * sign-out button.
 */
export default function SessionBar() {
	const [me] = createResource(() => portal<Me>("/me").catch(() => undefined));

	async function signOut() {
		await portal("/session", { method: "DELETE" }).catch(() => undefined);
		window.location.assign("/sign-in/");
	}

	return (
		<div class="session-bar">
			<Show when={me()} fallback={<a href="/sign-in/">Sign in</a>}>
				{(current) => (
					<>
						<Show when={current().operator}>
							<span
								class="status status-operator"
								data-testid="operator-view"
								title="Signed in as a platform operator: provider cost and gross margin are visible."
							>
								operator view
							</span>
						</Show>
						<span data-testid="session-user">
							{current().email ?? current().userId} · {current().role} ·{" "}
							{current().workspace.name}
						</span>
						<button type="button" class="secondary" onClick={signOut}>
							Sign out
						</button>
					</>
				)}
			</Show>
		</div>
	);
}
