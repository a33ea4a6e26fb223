/**
 * Portal API client. The site is static and reads every cell from
 * `/config.json`. It calls the portal API of the customer's home cell with
 * the session cookie (`credentials: "include"`).
 */

export interface CellInfo {
	id: string;
	name: string;
	/** API base URL without `/v1`, such as `http://127.0.0.1:8787`. */
	apiUrl: string;
}

export interface SiteConfig {
	cells: CellInfo[];
	defaultCell?: string;
}

const CELL_STORAGE_KEY = "gag.cell";

let configPromise: Promise<SiteConfig> | undefined;

function normalizeCell(raw: Record<string, unknown>): CellInfo | undefined {
	if (typeof raw.id !== "string") return undefined;
	const url = [raw.apiUrl, raw.apiBaseUrl, raw.url].find(
		(value): value is string => typeof value === "string" && value !== "",
	);
	return {
		id: raw.id,
		name: typeof raw.name === "string" ? raw.name : raw.id,
		apiUrl: (url ?? window.location.origin)
			.replace(/\/+$/, "")
			.replace(/\/v1$/, ""),
	};
}

/** Loads `/config.json` once per page. */
export function loadConfig(): Promise<SiteConfig> {
	configPromise ??= fetch("/config.json", { cache: "no-store" })
		.then((response) => {
			if (!response.ok) {
				throw new Error(
					`Loading /config.json failed with HTTP ${response.status}. The portal needs it to find the cell APIs.`,
				);
			}
			return response.json();
		})
		.then((data: Record<string, unknown>) => {
			const cells = (Array.isArray(data.cells) ? data.cells : [])
				.map((cell) => normalizeCell(cell as Record<string, unknown>))
				.filter((cell): cell is CellInfo => cell !== undefined);
			if (cells.length === 0) {
				cells.push({
					id: "local",
					name: "Local",
					apiUrl: window.location.origin,
				});
			}
			const defaultCell = [data.defaultCell, data.homeCell, data.cell].find(
				(value): value is string => typeof value === "string",
			);
			return defaultCell ? { cells, defaultCell } : { cells };
		});
	return configPromise;
}

/** Remembers the home cell named by a sign-in link. */
export function rememberHomeCell(cellId: string): void {
	localStorage.setItem(CELL_STORAGE_KEY, cellId);
}

/** Returns the home cell: the one remembered at sign-in, else the config's default. */
export async function homeCell(): Promise<CellInfo> {
	const config = await loadConfig();
	const wanted = localStorage.getItem(CELL_STORAGE_KEY) ?? config.defaultCell;
	return (
		config.cells.find((cell) => cell.id === wanted) ??
		(config.cells[0] as CellInfo)
	);
}

/** An OpenAI-shaped error from the portal API. */
export class PortalError extends Error {
	readonly status: number;
	readonly code: string | null;

	constructor(status: number, message: string, code: string | null) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

/** Absolute URL of a portal API path, such as `/usage.csv?from=…`. */
export async function portalUrl(path: string): Promise<string> {
	const cell = await homeCell();
	return `${cell.apiUrl}/portal${path}`;
}

/**
 * Calls the portal API and parses the JSON response.
 *
 * @throws PortalError with the API's message on any non-2xx status, or a
 *   network message when the API cannot be reached.
 */
export async function portal<T>(
	path: string,
	init: { method?: string; body?: unknown } = {},
): Promise<T> {
	const url = await portalUrl(path);
	let response: Response;
	try {
		response = await fetch(url, {
			method: init.method ?? "GET",
			credentials: "include",
			headers:
				init.body === undefined
					? { accept: "application/json" }
					: { accept: "application/json", "content-type": "application/json" },
			body: init.body === undefined ? undefined : JSON.stringify(init.body),
		});
	} catch {
		throw new PortalError(
			0,
			`The portal API at ${url} could not be reached. Check your connection and retry.`,
			"network_error",
		);
	}
	if (response.status === 204) return undefined as T;
	const data = await response.json().catch(() => undefined);
	if (!response.ok) {
		const error = (data as { error?: { message?: string; code?: string } })
			?.error;
		throw new PortalError(
			response.status,
			error?.message ?? `The portal API returned HTTP ${response.status}.`,
			error?.code ?? null,
		);
	}
	return data as T;
}
