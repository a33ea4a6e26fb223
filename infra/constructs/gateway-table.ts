import { RemovalPolicy } from "aws-cdk-lib";
import {
	AttributeType,
	Billing,
	TableEncryptionV2,
	TableV2,
} from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import {
	GLOBAL_INDEXES,
	PARTITION_KEY,
	SORT_KEY,
	TTL_ATTRIBUTE,
} from "../../shared/table.ts";

/**
 * Creates the cell's single table from the shared table definition:
 * on-demand billing, point-in-time recovery, deletion protection, TTL and
 * encryption with the AWS-managed KMS key. The table is retained when the
 * stack is deleted, because it contains the ledger.
 */
export function createGatewayTable(scope: Construct, id: string): TableV2 {
	return new TableV2(scope, id, {
		partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
		sortKey: { name: SORT_KEY, type: AttributeType.STRING },
		billing: Billing.onDemand(),
		pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
		deletionProtection: true,
		timeToLiveAttribute: TTL_ATTRIBUTE,
		encryption: TableEncryptionV2.awsManagedKey(),
		removalPolicy: RemovalPolicy.RETAIN,
		globalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
			indexName: index.indexName,
			partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
			sortKey: { name: index.sortKey, type: AttributeType.STRING },
		})),
	});
}
