import { Stack } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { type IRole, Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import { GLOBAL_INDEXES } from "../../shared/table.ts";
import type { RouteTarget } from "./api-routes.ts";

/**
 * DynamoDB actions each function may call on the cell's table, and nothing
 * more. TransactWriteItems has no IAM action of its own: DynamoDB authorizes
 * each item in the transaction against PutItem, UpdateItem, DeleteItem or
 * ConditionCheckItem, so writers that settle in a transaction list those.
 */
export const TABLE_ACTIONS: Record<RouteTarget | "reconciler", string[]> = {
	chat: [
		"dynamodb:GetItem",
		"dynamodb:Query",
		"dynamodb:PutItem",
		"dynamodb:UpdateItem",
		"dynamodb:DeleteItem",
		"dynamodb:ConditionCheckItem",
	],
	api: ["dynamodb:GetItem", "dynamodb:Query"],
	portal: [
		"dynamodb:GetItem",
		"dynamodb:Query",
		"dynamodb:PutItem",
		"dynamodb:UpdateItem",
		"dynamodb:DeleteItem",
		"dynamodb:ConditionCheckItem",
	],
	reconciler: [
		"dynamodb:Query",
		"dynamodb:GetItem",
		"dynamodb:UpdateItem",
		"dynamodb:PutItem",
		"dynamodb:DeleteItem",
		"dynamodb:ConditionCheckItem",
	],
};

/**
 * Attaches a policy that allows exactly `actions` on the table and on each of
 * its global secondary indexes, each index named rather than matched with a
 * wildcard.
 */
export function grantTableActions(
	scope: Construct,
	id: string,
	role: IRole,
	table: ITableV2,
	actions: readonly string[],
): Policy {
	const indexArns = GLOBAL_INDEXES.map((index) =>
		Stack.of(scope).formatArn({
			service: "dynamodb",
			resource: "table",
			resourceName: `${table.tableName}/index/${index.indexName}`,
		}),
	);
	const policy = new Policy(scope, id, {
		statements: [
			new PolicyStatement({
				actions: [...actions],
				resources: [table.tableArn, ...indexArns],
			}),
		],
	});
	policy.attachToRole(role);
	return policy;
}
