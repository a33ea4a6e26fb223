import { Duration, Validations } from "aws-cdk-lib";
import {
	AccessLogFormat,
	AuthorizationType,
	CognitoUserPoolsAuthorizer,
	Cors,
	EndpointType,
	type IModel,
	JsonSchemaType,
	JsonSchemaVersion,
	LambdaIntegration,
	LogGroupLogDestination,
	type Method,
	MethodLoggingLevel,
	type RequestValidator,
	ResponseTransferMode,
	ResponseType,
	RestApi,
} from "aws-cdk-lib/aws-apigateway";
import type { IUserPool } from "aws-cdk-lib/aws-cognito";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { API_ROUTES, type ApiRoute, type RouteTarget } from "./api-routes.ts";
import { ApiWebAcl } from "./api-web-acl.ts";

export interface GatewayApiProps {
	cellId: string;
	functions: Record<RouteTarget, IFunction>;
	userPool: IUserPool;
	/** Steady-state requests per second the stage allows across all clients. */
	throttleRateLimit: number;
	/** Burst the stage allows above the steady rate. */
	throttleBurstLimit: number;
	/** Requests per 5 minutes from one IP address before WAF blocks it. */
	wafRateLimitPer5Minutes: number;
	logRetention: RetentionDays;
}

/** Stage name, the first path segment of every URL. */
export const STAGE_NAME = "live";

/**
 * The cell's public REST API (Regional endpoint): one Lambda proxy
 * integration per route, chat streamed and the rest buffered, with stage
 * throttling, JSON access logs, X-Ray tracing and a WAF web ACL.
 */
export class GatewayApi extends Construct {
	readonly restApi: RestApi;
	readonly accessLogGroup: LogGroup;
	readonly webAcl: ApiWebAcl;
	/** Methods by `<METHOD> <path>`, for tests and acknowledgements. */
	readonly methods = new Map<string, Method>();

	constructor(scope: Construct, id: string, props: GatewayApiProps) {
		super(scope, id);

		this.accessLogGroup = new LogGroup(this, "AccessLogs", {
			retention: props.logRetention,
		});
		this.restApi = new RestApi(this, "RestApi", {
			restApiName: `gag-${props.cellId}`,
			description: `Global AI Gateway, cell ${props.cellId}`,
			endpointConfiguration: { types: [EndpointType.REGIONAL] },
			cloudWatchRole: true,
			deployOptions: {
				stageName: STAGE_NAME,
				tracingEnabled: true,
				metricsEnabled: true,
				loggingLevel: MethodLoggingLevel.ERROR,
				dataTraceEnabled: false,
				throttlingRateLimit: props.throttleRateLimit,
				throttlingBurstLimit: props.throttleBurstLimit,
				accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
				accessLogFormat: AccessLogFormat.custom(
					JSON.stringify(ACCESS_LOG_FIELDS),
				),
			},
			defaultCorsPreflightOptions: {
				allowOrigins: Cors.ALL_ORIGINS,
				allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
				// "*" does not cover Authorization in browsers, so it is listed.
				allowHeaders: ["Authorization", "*"],
				maxAge: Duration.hours(1),
			},
		});
		this.addOpenAiErrorResponses();

		const chatRequestModel = this.addChatRequestModel();
		const validator = this.restApi.addRequestValidator("RequestValidator", {
			validateRequestBody: true,
			validateRequestParameters: true,
		});
		const authorizer = new CognitoUserPoolsAuthorizer(
			this,
			"PortalAuthorizer",
			{
				cognitoUserPools: [props.userPool],
			},
		);

		for (const route of API_ROUTES) {
			const method = this.addRoute(route, props.functions[route.target], {
				chatRequestModel,
				validator,
				authorizer,
			});
			this.methods.set(`${route.method} ${route.path}`, method);
			this.acknowledgeRouteAuth(route, method);
		}
		this.acknowledgeCorsPreflights();

		this.webAcl = new ApiWebAcl(this, "WebAcl", {
			stageArn: this.restApi.deploymentStage.stageArn,
			rateLimitPer5Minutes: props.wafRateLimitPer5Minutes,
		});

		Validations.of(this.restApi).acknowledge({
			id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
			reason:
				"API Gateway's account-level logging role uses the AWS managed policy that API Gateway documents for writing execution logs to CloudWatch Logs.",
		});
	}

	private addRoute(
		route: ApiRoute,
		handler: IFunction,
		shared: {
			chatRequestModel: IModel;
			validator: RequestValidator;
			authorizer: CognitoUserPoolsAuthorizer;
		},
	): Method {
		const resource = this.restApi.root.resourceForPath(route.path);
		// A streamed response may run 15 minutes, and API Gateway allows the
		// integration timeout of a streaming route to match it.
		const integration = route.streaming
			? new LambdaIntegration(handler, {
					responseTransferMode: ResponseTransferMode.STREAM,
					timeout: Duration.millis(route.timeoutMs),
				})
			: new LambdaIntegration(handler);
		if (route.target === "chat") {
			return resource.addMethod(route.method, integration, {
				requestValidator: shared.validator,
				requestModels: { "application/json": shared.chatRequestModel },
			});
		}
		if (route.auth === "cognito") {
			return resource.addMethod(route.method, integration, {
				authorizer: shared.authorizer,
				authorizationType: AuthorizationType.COGNITO,
			});
		}
		return resource.addMethod(route.method, integration);
	}

	/**
	 * Adds a minimal JSON schema model for chat requests: an object with a `model`
	 * string and a non-empty `messages` array. The handler validates the
	 * full OpenAI schema, and this check only rejects malformed bodies before
	 * a Lambda invocation is paid for.
	 */
	private addChatRequestModel(): IModel {
		return this.restApi.addModel("ChatCompletionRequest", {
			contentType: "application/json",
			modelName: "ChatCompletionRequest",
			schema: {
				schema: JsonSchemaVersion.DRAFT4,
				title: "ChatCompletionRequest",
				type: JsonSchemaType.OBJECT,
				required: ["model", "messages"],
				properties: {
					model: { type: JsonSchemaType.STRING, minLength: 1 },
					messages: { type: JsonSchemaType.ARRAY, minItems: 1 },
				},
			},
		});
	}

	/**
	 * Replaces API Gateway's own error bodies (`{"message": …}`) with the
	 * OpenAI error shape, so SDKs raise their usual exceptions for a
	 * validation failure, a throttle or a WAF block.
	 */
	private addOpenAiErrorResponses(): void {
		const corsHeaders = {
			"Access-Control-Allow-Origin": "'*'",
			"Access-Control-Allow-Headers": "'Authorization,*'",
		};
		const responses: {
			id: string;
			type: ResponseType;
			/** Absent: keep the status API Gateway chose. */
			statusCode?: string;
			errorType: string;
			code: string;
			message: string;
		}[] = [
			{
				id: "BadRequestBody",
				type: ResponseType.BAD_REQUEST_BODY,
				statusCode: "400",
				errorType: "invalid_request_error",
				code: "invalid_request_body",
				message:
					"Invalid request body: send a JSON object with a model string and a non-empty messages array.",
			},
			{
				id: "Throttled",
				type: ResponseType.THROTTLED,
				statusCode: "429",
				errorType: "rate_limit_error",
				code: "rate_limit_exceeded",
				message: "Too many requests to this cell. Retry after a short backoff.",
			},
			{
				id: "WafBlocked",
				type: ResponseType.WAF_FILTERED,
				statusCode: "403",
				errorType: "permission_error",
				code: "request_blocked",
				message:
					"The gateway firewall blocked the request. Lower the request rate or check the request content, then retry.",
			},
			{
				id: "Unauthorized",
				type: ResponseType.UNAUTHORIZED,
				statusCode: "401",
				errorType: "authentication_error",
				code: "invalid_session",
				message:
					"Missing or expired portal session. Sign in to the portal again.",
			},
			{
				// No route uses IAM authorization, so this response only means
				// that the method and path match no route.
				id: "UnknownRoute",
				type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
				statusCode: "404",
				errorType: "invalid_request_error",
				code: "unknown_route",
				message:
					"Unknown route $context.httpMethod $context.path. See GET /v1/models and POST /v1/chat/completions.",
			},
			{
				id: "Default4xx",
				type: ResponseType.DEFAULT_4XX,
				errorType: "invalid_request_error",
				code: "invalid_request",
				message:
					"The gateway rejected the request ($context.error.responseType). Check the path, method and headers.",
			},
			{
				id: "Default5xx",
				type: ResponseType.DEFAULT_5XX,
				errorType: "api_error",
				code: "gateway_error",
				message:
					"The gateway failed to process the request ($context.error.responseType). Retry later, and if it persists, give the operator request id $context.requestId.",
			},
		];
		for (const response of responses) {
			this.restApi.addGatewayResponse(response.id, {
				type: response.type,
				statusCode: response.statusCode,
				responseHeaders: corsHeaders,
				templates: {
					"application/json": JSON.stringify({
						error: {
							message: response.message,
							type: response.errorType,
							param: null,
							code: response.code,
						},
					}),
				},
			});
		}
	}

	/**
	 * API-key routes authenticate in the handler, because keys are this
	 * product's own (`sk-gag-…`, stored as SHA-256 hashes in the table), and
	 * neither IAM nor Cognito can check them.
	 */
	private acknowledgeRouteAuth(route: ApiRoute, method: Method): void {
		if (route.auth === "cognito") {
			return;
		}
		const reason =
			route.auth === "apiKey"
				? "The handler authenticates the caller's gateway API key (Authorization: Bearer sk-gag-...) against its hash in the cell's table, which neither IAM nor Cognito can verify."
				: "The health check is public so that load balancers and uptime monitors can call it without credentials; it returns no customer data.";
		Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason });
		Validations.of(method).acknowledge({ id: "AwsSolutions-COG4", reason });
	}

	/** CORS preflight requests carry no credentials by the Fetch standard. */
	private acknowledgeCorsPreflights(): void {
		for (const method of this.restApi.methods) {
			if (method.httpMethod !== "OPTIONS") {
				continue;
			}
			const reason =
				"CORS preflight (OPTIONS) requests never carry credentials, and the mock integration only returns CORS headers.";
			Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason });
			Validations.of(method).acknowledge({ id: "AwsSolutions-COG4", reason });
		}
	}
}

/**
 * Access log fields: one JSON object per request. The integration fields
 * show how a streamed chat response was timed; no header or body is logged.
 */
const ACCESS_LOG_FIELDS = {
	requestId: "$context.requestId",
	extendedRequestId: "$context.extendedRequestId",
	requestTime: "$context.requestTimeEpoch",
	sourceIp: "$context.identity.sourceIp",
	httpMethod: "$context.httpMethod",
	resourcePath: "$context.resourcePath",
	status: "$context.status",
	responseLength: "$context.responseLength",
	responseLatencyMs: "$context.responseLatency",
	integrationStatus: "$context.integration.status",
	integrationLatencyMs: "$context.integration.latency",
	responseTransferMode: "$context.integration.responseTransferMode",
	timeToAllHeadersMs: "$context.integration.timeToAllHeaders",
	timeToFirstContentMs: "$context.integration.timeToFirstContent",
	wafStatus: "$context.waf.status",
	errorType: "$context.error.responseType",
	xrayTraceId: "$context.xrayTraceId",
};
