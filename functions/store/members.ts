/**
 * Workspace members: who may use the portal of a workspace, and with which
 * role. Each membership is two items written together:
 *
 * | item                        | pk              | sk                 |
 * | --------------------------- | --------------- | ------------------ |
 * | member (list a workspace's) | `WS#<wsId>`     | `MEMBER#<userId>`  |
 * | lookup (find a user's)      | `USER#<userId>` | `MEMBER#<wsId>`    |
 *
 * The user id is the Cognito `sub` in a deployed cell, or the id given to
 * the sign-in link locally.
 */
import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./client.ts";

/** Portal roles, from the most to the least privileged. */
export const MEMBER_ROLES = [
	"owner",
	"admin",
	"billing",
	"developer",
	"viewer",
] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface Membership {
	workspaceId: string;
	userId: string;
	role: MemberRole;
	email?: string;
	addedAt: string;
}

export interface MemberItem extends Membership {
	pk: string;
	sk: string;
	entity: "member" | "memberLookup";
}

export const memberKeys = {
	member: (workspaceId: string, userId: string) => ({
		pk: `WS#${workspaceId}`,
		sk: `MEMBER#${userId}`,
	}),
	lookup: (userId: string, workspaceId: string) => ({
		pk: `USER#${userId}`,
		sk: `MEMBER#${workspaceId}`,
	}),
} as const;

/** Checks that a value is one of the portal roles. */
export function isMemberRole(value: unknown): value is MemberRole {
	return (
		typeof value === "string" &&
		(MEMBER_ROLES as readonly string[]).includes(value)
	);
}

/**
 * Adds a user to a workspace, or changes the role of an existing member.
 * Writes the member item and the user's lookup item in one transaction.
 */
export async function putMember(
	store: Store,
	member: Omit<Membership, "addedAt"> & { addedAt?: string },
): Promise<Membership> {
	const membership: Membership = {
		...member,
		addedAt: member.addedAt ?? new Date().toISOString(),
	};
	await store.doc.send(
		new TransactWriteCommand({
			TransactItems: [
				{
					Put: {
						TableName: store.tableName,
						Item: {
							...memberKeys.member(member.workspaceId, member.userId),
							entity: "member",
							...membership,
						},
					},
				},
				{
					Put: {
						TableName: store.tableName,
						Item: {
							...memberKeys.lookup(member.userId, member.workspaceId),
							entity: "memberLookup",
							...membership,
						},
					},
				},
			],
		}),
	);
	return membership;
}

function toMembership(item: Record<string, unknown>): Membership {
	const membership: Membership = {
		workspaceId: String(item.workspaceId),
		userId: String(item.userId),
		role: isMemberRole(item.role) ? item.role : "viewer",
		addedAt: String(item.addedAt),
	};
	if (typeof item.email === "string") membership.email = item.email;
	return membership;
}

/** Lists the workspaces a user belongs to, oldest membership first. */
export async function listMembershipsOfUser(
	store: Store,
	userId: string,
): Promise<Membership[]> {
	const memberships = await queryMemberships(store, `USER#${userId}`);
	return memberships.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
}

/**
 * Finds a user's membership: of the given workspace, or of the first
 * workspace the user joined when none is given.
 *
 * @returns the membership, or `undefined` when the user is not a member.
 */
export async function findMembership(
	store: Store,
	userId: string,
	workspaceId?: string,
): Promise<Membership | undefined> {
	const memberships = await listMembershipsOfUser(store, userId);
	if (workspaceId === undefined) return memberships[0];
	return memberships.find((m) => m.workspaceId === workspaceId);
}

/** Lists the members of a workspace. */
export async function listMembers(
	store: Store,
	workspaceId: string,
): Promise<Membership[]> {
	return queryMemberships(store, `WS#${workspaceId}`);
}

/**
 * Reads the `MEMBER#` items under `pk`, a user's or a workspace's partition,
 * in one query page.
 */
async function queryMemberships(
	store: Store,
	pk: string,
): Promise<Membership[]> {
	const result = await store.doc.send(
		new QueryCommand({
			TableName: store.tableName,
			KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
			ExpressionAttributeValues: { ":pk": pk, ":prefix": "MEMBER#" },
		}),
	);
	return (result.Items ?? []).map(toMembership);
}
