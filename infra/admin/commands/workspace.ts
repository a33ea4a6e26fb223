/** `workspace create` and `workspace show`. */
import { listApiKeys } from "../../../functions/store/api-keys.ts";
import { getBalance } from "../../../functions/store/credit.ts";
import {
	createWorkspace,
	getWorkspace,
	workspaceNotFound,
} from "../../../functions/store/workspaces.ts";
import { formatUsd } from "../../../shared/money.ts";
import {
	type Command,
	optionalOption,
	requiredOption,
	usdOption,
} from "../command.ts";
import { publicView } from "../format.ts";

export const workspaceCreate: Command = {
	name: "workspace create",
	usage: "--name N --credit-usd X [--cell C]",
	summary:
		"Create a workspace with opening credit (cell defaults to the target cell: the deployed one, or the local runtime's).",
	options: {
		name: { type: "string" },
		"credit-usd": { type: "string" },
		cell: { type: "string" },
	},
	async run({ store, actor, cell: targetCell }, values) {
		const name = requiredOption(values, "name");
		const creditMicroUsd = usdOption(
			requiredOption(values, "credit-usd"),
			"credit-usd",
		);
		const cell = optionalOption(values, "cell") ?? targetCell;

		const workspace = await createWorkspace(store, {
			name,
			cell,
			creditMicroUsd,
			actor,
		});

		return {
			json: { workspace: publicView(workspace), creditMicroUsd },
			text: `Created workspace ${workspace.workspaceId} "${workspace.name}" in cell ${workspace.cell} with ${formatUsd(creditMicroUsd)} credit.`,
		};
	},
};

export const workspaceShow: Command = {
	name: "workspace show",
	usage: "--workspace W",
	summary: "Show a workspace's cell, policy, balance and key count.",
	options: { workspace: { type: "string" } },
	async run({ store }, values) {
		const workspaceId = requiredOption(values, "workspace");

		const workspace = await getWorkspace(store, workspaceId);
		if (!workspace) throw workspaceNotFound(workspaceId);
		const balance = await getBalance(store, workspaceId);
		const keys = await listApiKeys(store, workspaceId);

		const available = balance?.availableMicroUsd ?? 0;
		const reserved = balance?.reservedMicroUsd ?? 0;
		const activeKeys = keys.filter((key) => key.status === "active").length;
		const policy = workspace.policy;
		const text = [
			`Workspace  ${workspace.workspaceId}`,
			`Name       ${workspace.name}`,
			`Cell       ${workspace.cell}`,
			`Created    ${workspace.createdAt}`,
			`Available  ${formatUsd(available)}`,
			`Reserved   ${formatUsd(reserved)}`,
			`Keys       ${activeKeys} active, ${keys.length} in total`,
			`Regions    ${policy.allowedRegions.join(", ")}`,
			`Retention  ${policy.retention}`,
			`Logging    ${policy.logging}`,
		].join("\n");
		return {
			json: {
				workspace: publicView(workspace),
				balance: {
					availableMicroUsd: available,
					reservedMicroUsd: reserved,
				},
				keys: { active: activeKeys, total: keys.length },
			},
			text,
		};
	},
};
