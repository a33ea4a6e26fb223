import { createSignal } from "solid-js";

/** Copies text to the clipboard and announces it to screen readers. */
export default function CopyButton(props: { text: string; label?: string }) {
	const [copied, setCopied] = createSignal(false);

	async function copy() {
		try {
			await navigator.clipboard.writeText(props.text);
			setCopied(true);
			setTimeout(() => setCopied(false), 2000);
		} catch {
			// Clipboard access can be blocked; the text stays selectable.
			setCopied(false);
		}
	}

	return (
		<button type="button" class="secondary" onClick={copy}>
			{copied() ? "Copied" : (props.label ?? "Copy")}
			<span class="visually-hidden" aria-live="polite">
				{copied() ? "Copied to the clipboard" : ""}
			</span>
		</button>
	);
}
