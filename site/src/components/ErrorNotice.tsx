import { type Component, ErrorBoundary, Show } from "solid-js";
import { PortalError } from "../lib/api.ts";

/** Error message of a failed load or action; a 401 links to sign-in. */
export default function ErrorNotice(props: { error: unknown }) {
	const error = () => props.error;
	const signedOut = () =>
		error() instanceof PortalError && (error() as PortalError).status === 401;
	return (
		<div class="notice error" role="alert">
			<p>
				{error() instanceof Error
					? (error() as Error).message
					: String(error())}
			</p>
			<Show when={signedOut()}>
				<p>
					Open the one-time sign-in link from your administrator, or ask for a
					new one.
				</p>
			</Show>
		</div>
	);
}

/** Loading line announced to screen readers. */
export function Loading(props: { what: string }) {
	return (
		<p class="loading" role="status">
			Loading {props.what}…
		</p>
	);
}

/**
 * Wraps a portal island in an error boundary. Reading a failed resource
 * throws, for example after a 401, so without the boundary the error escapes
 * uncaught and the page stays on its loading line. With it, the island shows
 * the error notice and its sign-in hint.
 */
export function withErrorNotice<P extends object>(
	Island: Component<P>,
): Component<P> {
	return (props) => (
		<ErrorBoundary fallback={(error) => <ErrorNotice error={error} />}>
			<Island {...props} />
		</ErrorBoundary>
	);
}
