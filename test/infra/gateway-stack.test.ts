import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import {
	METRIC_NAMES,
	METRIC_NAMESPACE,
	SERVICE_NAMES,
} from "../../functions/observability/metric-names.ts";
import { ROUTES } from "../../infra/local/routes.ts";
import {
	actionsOfFunctionRole,
	functionByService,
	resourcesOfType,
	synthesizeApp,
} from "./synth.ts";

let template: Template;

beforeAll(() => {
	const synthesized = synthesizeApp({ cells: "sg" });
	template = synthesized.template("gag-sg");
});

describe("gateway table", () => {
	it("is on-demand with recovery and protection", () => {
		template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
			BillingMode: "PAY_PER_REQUEST",
			Replicas: [
				Match.objectLike({
					PointInTimeRecoverySpecification: {
						PointInTimeRecoveryEnabled: true,
					},
					DeletionProtectionEnabled: true,
				}),
			],
		});
	});

	it("has TTL and encryption", () => {
		template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
			TimeToLiveSpecification: {
				AttributeName: "expiresAtEpochSeconds",
				Enabled: true,
			},
			SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
		});
	});

	it("defines both indexes", () => {
		template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
			GlobalSecondaryIndexes: [
				Match.objectLike({
					IndexName: "gsi1",
					KeySchema: [
						{ AttributeName: "gsi1pk", KeyType: "HASH" },
						{ AttributeName: "gsi1sk", KeyType: "RANGE" },
					],
					Projection: { ProjectionType: "ALL" },
				}),
				Match.objectLike({
					IndexName: "gsi2",
					KeySchema: [
						{ AttributeName: "gsi2pk", KeyType: "HASH" },
						{ AttributeName: "gsi2sk", KeyType: "RANGE" },
					],
					Projection: { ProjectionType: "ALL" },
				}),
			],
		});
	});

	it("is retained on stack deletion", () => {
		template.hasResource("AWS::DynamoDB::GlobalTable", {
			DeletionPolicy: "Retain",
			UpdateReplacePolicy: "Retain",
		});
	});
});

describe("gateway functions", () => {
	const services = Object.values(SERVICE_NAMES);

	it("run nodejs24.x on arm64", () => {
		for (const service of services) {
			const { properties } = functionByService(template, service);

			expect(properties.Runtime, service).toBe("nodejs24.x");
			expect(properties.Architectures, service).toEqual(["arm64"]);
		}
	});

	it("load an ESM bundle with tracing", () => {
		for (const service of services) {
			const { properties } = functionByService(template, service);

			expect(properties.Handler, service).toBe("index.handler");
			expect(properties.TracingConfig, service).toEqual({ Mode: "Active" });
			expect(properties.LoggingConfig?.LogGroup, service).toBeDefined();
		}
	});

	it("receive the cell environment", () => {
		for (const service of services) {
			const variables = functionByService(template, service).properties
				.Environment.Variables;

			expect(variables.CELL_ID, service).toBe("sg");
			expect(variables.TABLE_NAME, service).toEqual({
				Ref: expect.stringMatching(/^Table/),
			});
		}
	});

	it("give only chat the provider secret", () => {
		const chat = functionByService(template, SERVICE_NAMES.chat);
		const api = functionByService(template, SERVICE_NAMES.api);

		expect(chat.properties.Environment.Variables.PROVIDER_SECRETS).toEqual({
			Ref: expect.stringMatching(/^ProviderSecrets/),
		});
		expect(
			api.properties.Environment.Variables.PROVIDER_SECRETS,
		).toBeUndefined();
	});

	it("let chat run 15 minutes", () => {
		const chat = functionByService(template, SERVICE_NAMES.chat);

		expect(chat.properties.Timeout).toBe(900);
	});

	it("run the reconciler every minute", () => {
		const reconciler = functionByService(template, SERVICE_NAMES.reconciler);

		template.hasResourceProperties("AWS::Events::Rule", {
			ScheduleExpression: "rate(1 minute)",
			Targets: [
				Match.objectLike({
					Arn: { "Fn::GetAtt": [reconciler.logicalId, "Arn"] },
				}),
			],
		});
	});
});

describe("least privilege", () => {
	const expectedTableActions: Record<string, string[]> = {
		[SERVICE_NAMES.chat]: [
			"dynamodb:ConditionCheckItem",
			"dynamodb:DeleteItem",
			"dynamodb:GetItem",
			"dynamodb:PutItem",
			"dynamodb:Query",
			"dynamodb:UpdateItem",
		],
		[SERVICE_NAMES.api]: ["dynamodb:GetItem", "dynamodb:Query"],
		[SERVICE_NAMES.portal]: [
			"dynamodb:ConditionCheckItem",
			"dynamodb:DeleteItem",
			"dynamodb:GetItem",
			"dynamodb:PutItem",
			"dynamodb:Query",
			"dynamodb:UpdateItem",
		],
		[SERVICE_NAMES.reconciler]: [
			"dynamodb:ConditionCheckItem",
			"dynamodb:DeleteItem",
			"dynamodb:GetItem",
			"dynamodb:PutItem",
			"dynamodb:Query",
			"dynamodb:UpdateItem",
		],
	};

	it("grants each function its table actions", () => {
		for (const [service, expected] of Object.entries(expectedTableActions)) {
			const actions = actionsOfFunctionRole(template, service);
			const tableActions = actions
				.filter((action) => action.startsWith("dynamodb:"))
				.sort();

			expect(tableActions, service).toEqual(expected);
		}
	});

	it("grants no wildcard actions", () => {
		const policies = resourcesOfType(template, "AWS::IAM::Policy");
		const actions = Object.values(policies).flatMap((policy) =>
			policy.Properties.PolicyDocument.Statement.flatMap(
				(statement: { Action: string | string[] }) => [statement.Action].flat(),
			),
		);

		expect(actions).not.toContain("*");
		expect(actions).not.toContain("dynamodb:*");
		expect(
			actions.filter(
				(action) => action.startsWith("dynamodb:") && action.includes("*"),
			),
		).toEqual([]);
	});

	it("scopes table grants to table and indexes", () => {
		const policies = resourcesOfType(template, "AWS::IAM::Policy");
		const tableStatements = Object.values(policies)
			.flatMap((policy) => policy.Properties.PolicyDocument.Statement)
			.filter((statement) =>
				[statement.Action]
					.flat()
					.some((action: string) => action.startsWith("dynamodb:")),
			);

		expect(tableStatements).toHaveLength(4);
		for (const statement of tableStatements) {
			const resources = JSON.stringify(statement.Resource);
			expect(resources).toContain("/index/gsi1");
			expect(resources).toContain("/index/gsi2");
			expect(resources).not.toContain("*");
		}
	});

	it("lets only chat read the secret", () => {
		const readers = Object.values(SERVICE_NAMES).filter((service) =>
			actionsOfFunctionRole(template, service).includes(
				"secretsmanager:GetSecretValue",
			),
		);

		expect(readers).toEqual([SERVICE_NAMES.chat]);
	});

	it("keeps Bedrock calls in the cell region", () => {
		template.hasResourceProperties("AWS::IAM::Policy", {
			PolicyDocument: {
				Statement: Match.arrayWith([
					Match.objectLike({
						Action: [
							"bedrock:InvokeModel",
							"bedrock:InvokeModelWithResponseStream",
						],
						Resource: {
							"Fn::Join": [
								"",
								[
									"arn:",
									{ Ref: "AWS::Partition" },
									":bedrock:ap-southeast-1::foundation-model/*",
								],
							],
						},
					}),
				]),
			},
		});
	});
});

describe("gateway API", () => {
	it("is a regional REST API", () => {
		template.hasResourceProperties("AWS::ApiGateway::RestApi", {
			EndpointConfiguration: { Types: ["REGIONAL"] },
		});
	});

	it("streams chat completions", () => {
		const chat = functionByService(template, SERVICE_NAMES.chat);

		template.hasResourceProperties("AWS::ApiGateway::Method", {
			HttpMethod: "POST",
			Integration: {
				Type: "AWS_PROXY",
				ResponseTransferMode: "STREAM",
				TimeoutInMillis: 900_000,
				Uri: {
					"Fn::Join": [
						"",
						[
							"arn:",
							{ Ref: "AWS::Partition" },
							":apigateway:ap-southeast-1:lambda:path/2021-11-15/functions/",
							{ "Fn::GetAtt": [chat.logicalId, "Arn"] },
							"/response-streaming-invocations",
						],
					],
				},
			},
		});
	});

	it("buffers every other route", () => {
		const methods = resourcesOfType(template, "AWS::ApiGateway::Method");
		const proxyMethods = Object.values(methods).filter(
			(method) => method.Properties.Integration?.Type === "AWS_PROXY",
		);
		const streamed = proxyMethods.filter(
			(method) =>
				method.Properties.Integration.ResponseTransferMode === "STREAM",
		);

		expect(proxyMethods).toHaveLength(ROUTES.length);
		expect(streamed).toHaveLength(
			ROUTES.filter((route) => route.streaming).length,
		);
		for (const method of proxyMethods) {
			if (method.Properties.Integration.ResponseTransferMode === "STREAM") {
				continue;
			}
			expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(
				"/invocations",
			);
			expect(JSON.stringify(method.Properties.Integration.Uri)).not.toContain(
				"response-streaming",
			);
		}
	});

	it("serves exactly the local routes", () => {
		const resources = resourcesOfType(template, "AWS::ApiGateway::Resource");
		const pathOf = (logicalId: string): string => {
			const properties = resources[logicalId]?.Properties;
			const parent = properties.ParentId.Ref as string | undefined;
			const prefix = parent ? pathOf(parent) : "";
			return `${prefix}/${properties.PathPart}`;
		};
		const methods = resourcesOfType(template, "AWS::ApiGateway::Method");
		const served = Object.values(methods)
			.filter((method) => method.Properties.Integration?.Type === "AWS_PROXY")
			.map(
				(method) =>
					`${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId.Ref)}`,
			);

		expect(served.sort()).toEqual(
			ROUTES.map((route) => `${route.method} ${route.resource}`).sort(),
		);
	});

	it("validates the chat request body", () => {
		template.hasResourceProperties("AWS::ApiGateway::RequestValidator", {
			ValidateRequestBody: true,
		});
		template.hasResourceProperties("AWS::ApiGateway::Model", {
			ContentType: "application/json",
			Schema: Match.objectLike({
				type: "object",
				required: ["model", "messages"],
				properties: {
					model: { type: "string", minLength: 1 },
					messages: { type: "array", minItems: 1 },
				},
			}),
		});
	});

	it("protects the portal with Cognito", () => {
		template.hasResourceProperties("AWS::ApiGateway::Method", {
			HttpMethod: "ANY",
			AuthorizationType: "COGNITO_USER_POOLS",
			AuthorizerId: Match.anyValue(),
		});
	});

	it("throttles, traces and logs the stage", () => {
		template.hasResourceProperties("AWS::ApiGateway::Stage", {
			TracingEnabled: true,
			AccessLogSetting: {
				DestinationArn: Match.anyValue(),
				Format: Match.stringLikeRegexp("responseTransferMode"),
			},
			MethodSettings: Match.arrayWith([
				Match.objectLike({
					HttpMethod: "*",
					ResourcePath: "/*",
					ThrottlingRateLimit: 200,
					ThrottlingBurstLimit: 400,
					DataTraceEnabled: false,
				}),
			]),
		});
	});

	it("writes access logs as JSON", () => {
		const stage = Object.values(
			resourcesOfType(template, "AWS::ApiGateway::Stage"),
		)[0];
		const format = JSON.parse(stage?.Properties.AccessLogSetting.Format);

		expect(format.requestId).toBe("$context.requestId");
		expect(format.status).toBe("$context.status");
	});

	it("answers errors in OpenAI shape", () => {
		template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
			ResponseType: "BAD_REQUEST_BODY",
			StatusCode: "400",
			ResponseTemplates: {
				"application/json": Match.stringLikeRegexp(
					'"type":"invalid_request_error"',
				),
			},
		});
	});
});

describe("web ACL", () => {
	it("uses the managed groups and a rate rule", () => {
		template.hasResourceProperties("AWS::WAFv2::WebACL", {
			Scope: "REGIONAL",
			Rules: Match.arrayWith([
				Match.objectLike({ Name: "AWSManagedRulesCommonRuleSet" }),
				Match.objectLike({ Name: "AWSManagedRulesKnownBadInputsRuleSet" }),
				Match.objectLike({ Name: "AWSManagedRulesAmazonIpReputationList" }),
				Match.objectLike({
					Name: "RateLimitPerIp",
					Action: { Block: {} },
					Statement: {
						RateBasedStatement: Match.objectLike({ AggregateKeyType: "IP" }),
					},
				}),
			]),
		});
	});

	it("is associated with the stage", () => {
		const stages = resourcesOfType(template, "AWS::ApiGateway::Stage");
		const stageLogicalId = Object.keys(stages)[0];
		const associations = resourcesOfType(
			template,
			"AWS::WAFv2::WebACLAssociation",
		);
		const association = Object.values(associations)[0];

		expect(Object.keys(associations)).toHaveLength(1);
		expect(JSON.stringify(association?.Properties.ResourceArn)).toContain(
			stageLogicalId,
		);
		expect(association?.Properties.WebACLArn).toEqual({
			"Fn::GetAtt": [expect.stringMatching(/WebAcl/), "Arn"],
		});
	});
});

describe("portal users", () => {
	it("has role and operator groups", () => {
		const groups = Object.values(
			resourcesOfType(template, "AWS::Cognito::UserPoolGroup"),
		).map((group) => group.Properties.GroupName);

		expect(groups.sort()).toEqual(
			["admin", "billing", "developer", "operators", "owner", "viewer"].sort(),
		);
	});

	it("requires TOTP and threat protection", () => {
		template.hasResourceProperties("AWS::Cognito::UserPool", {
			MfaConfiguration: "ON",
			EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
			UserPoolTier: "PLUS",
			UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
			Policies: {
				PasswordPolicy: Match.objectLike({
					MinimumLength: 12,
					RequireUppercase: true,
					RequireNumbers: true,
					RequireSymbols: true,
				}),
			},
		});
	});

	it("has a public PKCE client", () => {
		template.hasResourceProperties("AWS::Cognito::UserPoolClient", {
			GenerateSecret: false,
			AllowedOAuthFlows: ["code"],
			AllowedOAuthFlowsUserPoolClient: true,
		});
	});
});

describe("alarms", () => {
	it("cover errors, fallbacks, backlog and throttles", () => {
		const alarms = Object.values(
			resourcesOfType(template, "AWS::CloudWatch::Alarm"),
		);
		const text = JSON.stringify(alarms);

		expect(alarms).toHaveLength(6);
		expect(text).toContain('"MetricName":"5XXError"');
		expect(text).toContain('"MetricName":"Errors"');
		expect(text).toContain('"MetricName":"Throttles"');
		expect(text).toContain(`"MetricName":"${METRIC_NAMES.fallbackCount}"`);
		expect(text).toContain(`"MetricName":"${METRIC_NAMES.requestCount}"`);
		expect(text).toContain(
			`"MetricName":"${METRIC_NAMES.openReservationsPastExpiry}"`,
		);
		expect(text).toContain('"MetricName":"ReadThrottleEvents"');
		expect(text).toContain('"MetricName":"WriteThrottleEvents"');
		expect(text).toContain(`"Namespace":"${METRIC_NAMESPACE}"`);
	});

	it("alarm when the reconciler stops", () => {
		template.hasResourceProperties("AWS::CloudWatch::Alarm", {
			MetricName: METRIC_NAMES.openReservationsPastExpiry,
			Dimensions: [{ Name: "service", Value: SERVICE_NAMES.reconciler }],
			TreatMissingData: "breaching",
		});
	});

	it("notify an encrypted topic", () => {
		const alarms = Object.values(
			resourcesOfType(template, "AWS::CloudWatch::Alarm"),
		);

		template.hasResourceProperties("AWS::SNS::Topic", {
			KmsMasterKeyId: Match.anyValue(),
		});
		for (const alarm of alarms) {
			expect(alarm.Properties.AlarmActions).toEqual([
				{ Ref: expect.stringMatching(/^AlarmsTopic/) },
			]);
		}
	});

	it("include a dashboard", () => {
		template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
	});
});

describe("gateway outputs", () => {
	it("exports what the CLI and portal need", () => {
		template.hasOutput("ApiUrl", {});
		template.hasOutput("TableName", {
			Value: { Ref: Match.stringLikeRegexp("^Table") },
		});
		template.hasOutput("UserPoolId", {});
		template.hasOutput("UserPoolClientId", {});
		template.hasOutput("AlarmTopicArn", {});
	});
});
