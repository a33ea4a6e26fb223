/** `key create`, `key list` and `key revoke`. */
import {
	createApiKey,
	listApiKeys,
	revokeApiKey,
} from "../../../functions/store/api-keys.ts";
import type { KeyTags } from "../../../functions/store/items.ts";
import {
	getWorkspace,
	workspaceNotFound,
} from "../../../functions/store/workspaces.ts";
import { formatUsd } from "../../../shared/money.ts";
import {
	type Command,
	listOption,
	optionalOption,
	requiredOption,
	usdOption,
} from "../command.ts";
import { formatTags, publicView, table } from "../format.ts";

export const keyCreate: Command = {
	name: "key create",
	usage:
		"--workspace W --name N --scopes a,b [--budget-usd X] [--models m1,m2] [--expires ISO] [--project P] [--department D] [--client C]",
	summary:
		"Create an API key; the key is printed once. Scopes: chat.completions, models.read, usage.read.",
	options: {
		workspace: { type: "string" },
		name: { type: "string" },
		scopes: { type: "string" },
		"budget-usd": { type: "string" },
		models: { type: "string" },
		expires: { type: "string" },
		project: { type: "string" },
		department: { type: "string" },
		client: { type: "string" },
	},
	async run({ store, actor }, values) {
		const workspaceId = requiredOption(values, "workspace");
		const name = requiredOption(values, "name");
		const scopes = listOption(requiredOption(values, "scopes"));
		const budget = optionalOption(values, "budget-usd");
		const models = optionalOption(values, "models");
		const tags: KeyTags = {};
		for (const tag of ["project", "department", "client"] as const) {
			const value = optionalOption(values, tag);
			if (value) tags[tag] = value;
		}

		const workspace = await getWorkspace(store, workspaceId);
		if (!workspace) throw workspaceNotFound(workspaceId);
		const { key, item } = await createApiKey(store, {
			workspaceId,
			cell: workspace.cell,
			name,
			scopes,
			...(budget ? { budgetMicroUsd: usdOption(budget, "budget-usd") } : {}),
			...(models ? { allowedModels: listOption(models) } : {}),
			...(optionalOption(values, "expires")
				? { expiresAt: optionalOption(values, "expires") }
				: {}),
			tags,
			actor,
		});

		return {
			json: { key, apiKey: publicView(item) },
			text: [
				`Created key ${item.keyId} "${item.name}" in workspace ${workspaceId}.`,
				"This is the only time the key is shown; store it now:",
				"",
				`  ${key}`,
			].join("\n"),
		};
	},
};

export const keyList: Command = {
	name: "key list",
	usage: "--workspace W",
	summary: "List a workspace's keys, revoked ones included.",
	options: { workspace: { type: "string" } },
	async run({ store }, values) {
		const workspaceId = requiredOption(values, "workspace");

		const workspace = await getWorkspace(store, workspaceId);
		if (!workspace) throw workspaceNotFound(workspaceId);
		const keys = await listApiKeys(store, workspaceId);

		const now = Date.now();
		const rows = keys.map((key) => [
			key.keyId,
			key.name,
			key.status === "active" &&
			key.expiresAt &&
			Date.parse(key.expiresAt) <= now
				? "expired"
				: key.status,
			key.prefix,
			key.scopes.join(","),
			formatUsd(key.spentMicroUsd),
			key.budgetMicroUsd === undefined ? "-" : formatUsd(key.budgetMicroUsd),
			formatTags(key),
		]);
		return {
			json: keys.map((key) => publicView(key)),
			text:
				keys.length === 0
					? `Workspace ${workspaceId} has no keys.`
					: table(
							[
								"KEY ID",
								"NAME",
								"STATUS",
								"KEY",
								"SCOPES",
								"SPENT",
								"BUDGET",
								"TAGS",
							],
							rows,
						),
		};
	},
};

export const keyRevoke: Command = {
	name: "key revoke",
	usage: "--key K",
	summary: "Revoke a key by its id (key_…); revoking twice is harmless.",
	options: { key: { type: "string" } },
	async run({ store, actor }, values) {
		const keyId = requiredOption(values, "key");

		const item = await revokeApiKey(store, keyId, actor);

		return {
			json: publicView(item),
			text: `Revoked key ${item.keyId} (${item.prefix}) at ${item.revokedAt}.`,
		};
	},
};
