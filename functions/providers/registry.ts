/**
 * Picks the adapter of a route and the provider's API key. Keys come from
 * the cell's Secrets Manager secret (`PROVIDER_SECRETS`, a JSON map of
 * secret name to key), read once per cold start, or locally from the
 * `PROVIDER_API_KEYS` environment variable in the same JSON form.
 */
import type { CatalogRoute } from "../../shared/catalog.ts";
import { anthropicAdapter } from "./anthropic.ts";
import { bedrockAdapter } from "./bedrock.ts";
import { openAICompatibleAdapter } from "./openai-compatible.ts";
import type { ProviderAdapter } from "./types.ts";

const adapters = new Map<string, ProviderAdapter>([
	["openai", openAICompatibleAdapter],
	["anthropic", anthropicAdapter],
	["bedrock", bedrockAdapter],
]);

/** Registers an adapter for a catalog `adapter` value. */
export function registerAdapter(name: string, adapter: ProviderAdapter): void {
	adapters.set(name, adapter);
}

/** Returns the adapter of a route. @throws Error for an unknown adapter. */
export function adapterFor(route: CatalogRoute): ProviderAdapter {
	const adapter = adapters.get(route.adapter);
	if (!adapter) {
		throw new Error(`No adapter "${route.adapter}" for route ${route.id}.`);
	}
	return adapter;
}

let secrets: Promise<Record<string, string>> | undefined;

async function readSecrets(): Promise<Record<string, string>> {
	const local = process.env.PROVIDER_API_KEYS;
	if (local) return JSON.parse(local) as Record<string, string>;
	const secretId = process.env.PROVIDER_SECRETS;
	if (!secretId) return {};
	const { SecretsManagerClient, GetSecretValueCommand } = await import(
		"@aws-sdk/client-secrets-manager"
	);
	const client = new SecretsManagerClient({});
	const result = await client.send(
		new GetSecretValueCommand({ SecretId: secretId }),
	);
	return JSON.parse(result.SecretString ?? "{}") as Record<string, string>;
}

/** Returns the API key of a route's provider, or undefined when it has none. */
export async function apiKeyFor(
	route: CatalogRoute,
): Promise<string | undefined> {
	if (!route.secretName) return undefined;
	secrets ??= readSecrets().catch((error) => {
		secrets = undefined;
		throw error;
	});
	return (await secrets)[route.secretName];
}
