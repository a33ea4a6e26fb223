/**
 * Plain-text output of the admin CLI: aligned tables and public views of
 * items without table keys or key hashes.
 */
import type { ApiKeyItem } from "../../functions/store/items.ts";

const INTERNAL_FIELDS = new Set([
	"pk",
	"sk",
	"gsi1pk",
	"gsi1sk",
	"gsi2pk",
	"gsi2sk",
	"entity",
	"keyHash",
]);

/** Copies an item without its table keys, entity tag and key hash. */
export function publicView<T extends object>(item: T): Partial<T> {
	return Object.fromEntries(
		Object.entries(item).filter(([field]) => !INTERNAL_FIELDS.has(field)),
	) as Partial<T>;
}

/** Formats rows as a table with a header and columns padded to the widest cell. */
export function table(header: string[], rows: string[][]): string {
	const widths = header.map((title, column) =>
		Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
	);
	const line = (cells: string[]) =>
		cells
			.map((cell, column) => cell.padEnd(widths[column] ?? 0))
			.join("  ")
			.trimEnd();
	return [line(header), ...rows.map(line)].join("\n");
}

/** Formats a key's tags as `project=search department=R&D`, or `-`. */
export function formatTags(key: ApiKeyItem): string {
	const parts = Object.entries(key.tags ?? {}).map(
		([name, value]) => `${name}=${value}`,
	);
	return parts.length > 0 ? parts.join(" ") : "-";
}
