/** `member add` and `portal link`: who may use a workspace's portal. */
import {
	isMemberRole,
	MEMBER_ROLES,
	type MemberRole,
	putMember,
} from "../../../functions/store/members.ts";
import { createSignInLink } from "../../../functions/store/portal-sessions.ts";
import {
	getWorkspace,
	workspaceNotFound,
} from "../../../functions/store/workspaces.ts";
import {
	type Command,
	type OptionValues,
	optionalOption,
	requiredOption,
	UsageError,
} from "../command.ts";
import { readRuntimeInfo } from "../runtime-info.ts";

function roleOption(values: OptionValues): MemberRole {
	const role = requiredOption(values, "role");
	if (!isMemberRole(role)) {
		throw new UsageError(
			`Invalid --role "${role}": use one of ${MEMBER_ROLES.join(", ")}.`,
		);
	}
	return role;
}

export const memberAdd: Command = {
	name: "member add",
	usage: `--workspace W --user U --role ${MEMBER_ROLES.join("|")} [--email E]`,
	summary:
		"Give a portal user (the Cognito sub in a deployed cell) a role in a workspace, or change it.",
	options: {
		workspace: { type: "string" },
		user: { type: "string" },
		role: { type: "string" },
		email: { type: "string" },
	},
	async run({ store }, values) {
		const workspaceId = requiredOption(values, "workspace");
		const userId = requiredOption(values, "user");
		const role = roleOption(values);
		const email = optionalOption(values, "email");
		if (!(await getWorkspace(store, workspaceId))) {
			throw workspaceNotFound(workspaceId);
		}

		const membership = await putMember(store, {
			workspaceId,
			userId,
			role,
			...(email ? { email } : {}),
		});

		return {
			json: { membership },
			text: `User ${userId} is now ${role} of ${workspaceId}.`,
		};
	},
};

export const portalLink: Command = {
	name: "portal link",
	usage: `--workspace W --user U --role ${MEMBER_ROLES.join("|")} [--operator] [--base-url URL]`,
	summary:
		"Print a one-time portal sign-in link (valid 15 minutes) for a local run, adding the user with the role.",
	options: {
		workspace: { type: "string" },
		user: { type: "string" },
		role: { type: "string" },
		operator: { type: "boolean" },
		"base-url": { type: "string" },
	},
	async run({ store, cell }, values) {
		const workspaceId = requiredOption(values, "workspace");
		const userId = requiredOption(values, "user");
		const role = roleOption(values);
		const runtime = readRuntimeInfo();
		const baseUrl =
			optionalOption(values, "base-url") ??
			`http://127.0.0.1:${runtime?.port ?? 8787}`;
		if (!(await getWorkspace(store, workspaceId))) {
			throw workspaceNotFound(workspaceId);
		}

		const link = await createSignInLink(store, {
			workspaceId,
			userId,
			role,
			operator: values.operator === true,
			baseUrl,
			cell,
		});

		return { json: { link }, text: link };
	},
};
