import type { CellConfig } from "../cells.ts";

/** DNS suffix of AWS service endpoints in a partition. */
function dnsSuffix(cell: CellConfig): string {
	return cell.partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

/**
 * Builds the portal's Content-Security-Policy. The page may load its own scripts,
 * styles and images only, and may connect to each cell's API and Cognito
 * endpoints, nothing else.
 *
 * NOTE: `script-src 'self'` blocks inline scripts, so the portal build must
 * emit its scripts as files (or this policy must list their hashes).
 */
export function portalContentSecurityPolicy(
	cells: readonly CellConfig[],
): string {
	const connectSources = cells.flatMap((cell) => {
		const suffix = dnsSuffix(cell);
		return [
			`https://*.execute-api.${cell.region}.${suffix}`,
			`https://cognito-idp.${cell.region}.${suffix}`,
			`https://*.auth.${cell.region}.amazoncognito.com`,
		];
	});
	const directives = [
		"default-src 'self'",
		"script-src 'self'",
		// Solid and Astro set style attributes at run time.
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self'",
		`connect-src 'self' ${[...new Set(connectSources)].join(" ")}`,
		"frame-ancestors 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"object-src 'none'",
		"upgrade-insecure-requests",
	];
	return directives.join("; ");
}
