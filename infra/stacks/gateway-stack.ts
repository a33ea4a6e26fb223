import {
	CfnOutput,
	Duration,
	Stack,
	type StackProps,
	Validations,
} from "aws-cdk-lib";
import type { TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import {
	METRIC_NAMESPACE,
	SERVICE_NAMES,
} from "../../functions/observability/metric-names.ts";
import type { CellConfig } from "../cells.ts";
import { API_ROUTES, type RouteTarget } from "../constructs/api-routes.ts";
import { GatewayAlarms } from "../constructs/gateway-alarms.ts";
import { GatewayApi } from "../constructs/gateway-api.ts";
import { GatewayFunction } from "../constructs/gateway-function.ts";
import { createGatewayTable } from "../constructs/gateway-table.ts";
import { PortalUsers } from "../constructs/portal-users.ts";
import {
	grantTableActions,
	TABLE_ACTIONS,
} from "../constructs/table-access.ts";
import { GATEWAY_OUTPUTS } from "./gateway-outputs.ts";

export interface GatewayStackProps extends StackProps {
	cell: CellConfig;
	/** Portal domain: passkey relying party and OAuth callback host. */
	portalDomain?: string;
	/** SELLER_OF_RECORD for the handlers (JSON), when the operator sets one. */
	sellerOfRecord?: string;
	logRetention?: RetentionDays;
}

/**
 * One cell: its table, provider secret, four functions, REST API with WAF,
 * Cognito user pool for the portal, alarms and dashboard.
 */
export class GatewayStack extends Stack {
	readonly table: TableV2;
	readonly api: GatewayApi;
	readonly users: PortalUsers;
	readonly providerSecret: Secret;
	readonly functions: Record<
		"chat" | "api" | "portal" | "reconciler",
		GatewayFunction
	>;
	readonly alarms: GatewayAlarms;

	constructor(scope: Construct, id: string, props: GatewayStackProps) {
		super(scope, id, props);
		const { cell } = props;
		const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

		this.table = createGatewayTable(this, "Table");
		this.providerSecret = new Secret(this, "ProviderSecrets", {
			secretName: `gag/${cell.id}/provider-secrets`,
			description: `Provider API keys of cell ${cell.id}: a JSON object mapping provider id to API key.`,
			secretObjectValue: {},
		});
		Validations.of(this.providerSecret).acknowledge({
			id: "AwsSolutions-SMG4",
			reason:
				"The secret holds API keys issued by third-party AI providers; Secrets Manager cannot rotate them, so operators replace them with put-secret-value when a provider rotates a key.",
		});

		const environment = {
			TABLE_NAME: this.table.tableName,
			CELL_ID: cell.id,
			POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
			...(props.sellerOfRecord
				? { SELLER_OF_RECORD: props.sellerOfRecord }
				: {}),
		};
		// Memory: every function waits on DynamoDB or a provider far longer
		// than it computes, so it needs little memory or CPU. Chat gets more
		// because it also re-frames every SSE chunk. The sizes are estimates:
		// tune them from the Duration metric once a cell has traffic.
		this.functions = {
			chat: new GatewayFunction(this, "Chat", {
				handlerFolder: "chat",
				serviceName: SERVICE_NAMES.chat,
				environment: {
					...environment,
					PROVIDER_SECRETS: this.providerSecret.secretArn,
				},
				// 15 minutes: the longest a streamed REST response may run, so
				// Lambda never cuts a long completion before API Gateway would.
				timeout: routeTimeout("chat"),
				memorySize: 512,
				logRetention,
			}),
			api: new GatewayFunction(this, "Api", {
				handlerFolder: "api",
				serviceName: SERVICE_NAMES.api,
				environment,
				// Buffered integrations end at API Gateway's 29-second timeout.
				timeout: routeTimeout("api"),
				memorySize: 256,
				logRetention,
			}),
			portal: new GatewayFunction(this, "Portal", {
				handlerFolder: "portal",
				serviceName: SERVICE_NAMES.portal,
				environment,
				timeout: routeTimeout("portal"),
				memorySize: 256,
				logRetention,
			}),
			reconciler: new GatewayFunction(this, "Reconciler", {
				handlerFolder: "reconciler",
				serviceName: SERVICE_NAMES.reconciler,
				environment,
				// Ends before the next scheduled run starts.
				timeout: Duration.seconds(55),
				memorySize: 256,
				logRetention,
			}),
		};

		for (const [name, fn] of Object.entries(this.functions)) {
			const target = name as keyof typeof TABLE_ACTIONS;
			grantTableActions(
				fn,
				"TableAccess",
				fn.role,
				this.table,
				TABLE_ACTIONS[target],
			);
		}
		this.providerSecret.grantRead(this.functions.chat.role);
		this.grantBedrockInvoke(this.functions.chat);

		new Rule(this, "ReconcilerSchedule", {
			description: `Settles or releases expired reservations of cell ${cell.id}`,
			schedule: Schedule.rate(Duration.minutes(1)),
			targets: [
				new LambdaFunction(this.functions.reconciler.function, {
					// The next run starts a minute later, so a failed run is not retried.
					retryAttempts: 0,
				}),
			],
		});

		this.users = new PortalUsers(this, "PortalUsers", {
			cellId: cell.id,
			portalDomain: props.portalDomain,
		});
		this.api = new GatewayApi(this, "RestApi", {
			cellId: cell.id,
			functions: {
				chat: this.functions.chat.function,
				api: this.functions.api.function,
				portal: this.functions.portal.function,
			},
			userPool: this.users.userPool,
			throttleRateLimit: 200,
			throttleBurstLimit: 400,
			wafRateLimitPer5Minutes: 3000,
			logRetention,
		});
		this.alarms = new GatewayAlarms(this, "Alarms", {
			cellId: cell.id,
			restApi: this.api.restApi,
			chatFunction: this.functions.chat.function,
			reconcilerFunction: this.functions.reconciler.function,
			table: this.table,
		});

		new CfnOutput(this, GATEWAY_OUTPUTS.apiUrl, {
			value: this.api.restApi.url,
			description:
				"Base URL of the cell's API; the OpenAI base URL is this plus v1.",
		});
		new CfnOutput(this, GATEWAY_OUTPUTS.tableName, {
			value: this.table.tableName,
			description: "The cell's DynamoDB table, read by the admin CLI.",
		});
		new CfnOutput(this, GATEWAY_OUTPUTS.userPoolId, {
			value: this.users.userPool.userPoolId,
		});
		new CfnOutput(this, GATEWAY_OUTPUTS.userPoolClientId, {
			value: this.users.client.userPoolClientId,
		});
		new CfnOutput(this, GATEWAY_OUTPUTS.alarmTopicArn, {
			value: this.alarms.topic.topicArn,
			description: "SNS topic of the cell's alarms; subscribe operators to it.",
		});
	}

	/**
	 * Lets chat call Bedrock models in the cell's own region only: a model
	 * ARN outside it, or a cross-region inference profile, is denied, which
	 * keeps Bedrock processing inside the cell's region.
	 */
	private grantBedrockInvoke(chat: GatewayFunction): void {
		chat.role.addToPolicy(
			new PolicyStatement({
				actions: [
					"bedrock:InvokeModel",
					"bedrock:InvokeModelWithResponseStream",
				],
				resources: [
					this.formatArn({
						service: "bedrock",
						account: "",
						resource: "foundation-model",
						resourceName: "*",
					}),
				],
			}),
		);
		Validations.of(chat.role).acknowledge({
			id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:${this.region}::foundation-model/*]`,
			reason:
				"The provider catalog decides at run time which Bedrock models chat may call; the grant is limited to foundation models in the cell's region.",
		});
	}
}

/** Function timeout: the longest integration timeout among its routes. */
function routeTimeout(target: RouteTarget): Duration {
	const timeouts = API_ROUTES.filter((route) => route.target === target).map(
		(route) => route.timeoutMs,
	);
	return Duration.millis(Math.max(...timeouts));
}
