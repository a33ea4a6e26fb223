/**
 * Serves the built portal (`site/dist`) the way the CloudFront distribution
 * does: files with their content types, `dir/index.html` for directories,
 * and `index.html` for extensionless paths that match no file.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";

const CONTENT_TYPES: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".json": "application/json",
	".map": "application/json",
	".txt": "text/plain; charset=utf-8",
	".xml": "application/xml",
	".svg": "image/svg+xml",
	".png": "image/png",
	".jpg": "image/jpeg",
	".jpeg": "image/jpeg",
	".gif": "image/gif",
	".webp": "image/webp",
	".avif": "image/avif",
	".ico": "image/x-icon",
	".woff": "font/woff",
	".woff2": "font/woff2",
	".wasm": "application/wasm",
	".webmanifest": "application/manifest+json",
};

/** Content type for a file name; unknown extensions are octet streams. */
export function contentTypeFor(path: string): string {
	return (
		CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream"
	);
}

/**
 * Writes the file for `pathname` from `siteDir`. Returns false, having written
 * nothing, when the site is not built or no file matches.
 */
export async function serveStatic(
	siteDir: string,
	pathname: string,
	method: string,
	response: ServerResponse,
): Promise<boolean> {
	const file = await resolveFile(siteDir, pathname);
	if (!file) return false;

	const headers: Record<string, string | number> = {
		"content-type": contentTypeFor(file.path),
		"content-length": file.size,
		"cache-control": pathname.startsWith("/_astro/")
			? "public, max-age=31536000, immutable"
			: "no-cache",
		"x-content-type-options": "nosniff",
	};
	response.writeHead(200, headers);
	if (method === "HEAD") {
		response.end();
		return true;
	}
	await pipeline(createReadStream(file.path), response);
	return true;
}

async function resolveFile(
	siteDir: string,
	pathname: string,
): Promise<{ path: string; size: number } | null> {
	const root = resolve(siteDir);
	let decoded: string;
	try {
		decoded = decodeURIComponent(pathname);
	} catch {
		return null;
	}
	if (decoded.includes("\0")) return null;

	const target = resolve(root, `.${decoded}`);
	if (target !== root && !target.startsWith(root + sep)) return null;

	const candidates = [target, join(target, "index.html"), `${target}.html`];
	if (extname(decoded) === "") candidates.push(join(root, "index.html"));
	for (const candidate of candidates) {
		const info = await stat(candidate).catch(() => null);
		if (info?.isFile()) return { path: candidate, size: info.size };
	}
	return null;
}
