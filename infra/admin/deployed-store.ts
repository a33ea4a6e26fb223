/**
 * Finds a deployed cell's table from its CloudFormation stack outputs, for
 * the admin CLI's deployed mode (`--cell <id>`).
 */
import {
	CloudFormationClient,
	DescribeStacksCommand,
} from "@aws-sdk/client-cloudformation";
import { getCell } from "../cells.ts";
import {
	GATEWAY_OUTPUTS,
	gatewayStackName,
} from "../stacks/gateway-outputs.ts";

export interface DeployedCell {
	stackName: string;
	tableName: string;
	region: string;
}

export interface FindDeployedCellOptions {
	/**
	 * CloudFormation endpoint; tests pass a loopback server. Deployed use
	 * leaves it unset, so the SDK uses the region's public endpoint and the
	 * caller's AWS credentials.
	 */
	endpoint?: string;
	credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Reads the `TableName` output of the cell's stack (`gag-<cellId>`) in the
 * cell's region.
 *
 * @throws Error naming the stack and region when the stack or its output is
 *   missing, or when CloudFormation rejects the call.
 */
export async function findDeployedCell(
	cellId: string,
	options: FindDeployedCellOptions = {},
): Promise<DeployedCell> {
	const cell = getCell(cellId);
	const stackName = gatewayStackName(cell.id);
	const client = new CloudFormationClient({
		region: cell.region,
		...(options.endpoint ? { endpoint: options.endpoint } : {}),
		...(options.credentials ? { credentials: options.credentials } : {}),
	});

	try {
		const response = await client
			.send(new DescribeStacksCommand({ StackName: stackName }))
			.catch((error: unknown) => {
				const message = error instanceof Error ? error.message : String(error);
				throw new Error(
					`Could not read stack ${stackName} in ${cell.region}: ${message}. Check that the cell is deployed (npx cdk deploy ${stackName}) and that your AWS credentials can call cloudformation:DescribeStacks there.`,
					{ cause: error },
				);
			});
		const outputs = response.Stacks?.[0]?.Outputs ?? [];
		const tableName = outputs.find(
			(output) => output.OutputKey === GATEWAY_OUTPUTS.tableName,
		)?.OutputValue;
		if (!tableName) {
			throw new Error(
				`Stack ${stackName} in ${cell.region} has no ${GATEWAY_OUTPUTS.tableName} output. Deploy the current version of the cell (npx cdk deploy ${stackName}).`,
			);
		}
		return { stackName, tableName, region: cell.region };
	} finally {
		client.destroy();
	}
}
