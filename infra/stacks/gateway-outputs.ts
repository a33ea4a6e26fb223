/**
 * Names that identify a deployed cell: its stack name and the output keys
 * that operators and the admin CLI read. Kept free of CDK imports so the CLI
 * can load it without loading aws-cdk-lib.
 */

/** Stack name of a cell. */
export function gatewayStackName(cellId: string): string {
	return `gag-${cellId}`;
}

/** Output keys of a cell's stack. */
export const GATEWAY_OUTPUTS = {
	apiUrl: "ApiUrl",
	tableName: "TableName",
	userPoolId: "UserPoolId",
	userPoolClientId: "UserPoolClientId",
	alarmTopicArn: "AlarmTopicArn",
} as const;
