import { fileURLToPath } from "node:url";
import { type Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import {
	NodejsFunction,
	OutputFormat,
	SourceMapMode,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** Repository root: handler entry points and the npm lockfile live there. */
export const REPOSITORY_ROOT = fileURLToPath(
	new URL("../../", import.meta.url),
);

/**
 * Makes `require` available inside the ESM bundle, for CommonJS dependencies
 * that call it for Node built-ins.
 */
const ESM_REQUIRE_BANNER =
	"import { createRequire as __gagCreateRequire } from 'node:module'; const require = __gagCreateRequire(import.meta.url);";

export interface GatewayFunctionProps {
	/** Handler folder under functions/, for example `chat`. */
	handlerFolder: string;
	/** POWERTOOLS_SERVICE_NAME, also the `service` metric dimension. */
	serviceName: string;
	environment: Record<string, string>;
	timeout: Duration;
	/**
	 * Memory in MB. Lambda allocates CPU in proportion to memory, and an
	 * I/O-bound handler needs little of either.
	 */
	memorySize: number;
	logRetention: RetentionDays;
	reservedConcurrentExecutions?: number;
}

/**
 * A Node.js 24 arm64 function bundled locally with esbuild (no Docker), with
 * its own log group, its own role and active X-Ray tracing. The role carries
 * only the log permissions for that log group. Callers add the table,
 * secret and model permissions that the function needs.
 */
export class GatewayFunction extends Construct {
	readonly function: NodejsFunction;
	readonly role: Role;
	readonly logGroup: LogGroup;

	constructor(scope: Construct, id: string, props: GatewayFunctionProps) {
		super(scope, id);

		this.logGroup = new LogGroup(this, "LogGroup", {
			retention: props.logRetention,
			removalPolicy: RemovalPolicy.DESTROY,
		});
		this.role = new Role(this, "Role", {
			assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
			description: `Execution role of the ${props.handlerFolder} function`,
		});
		this.role.addToPolicy(
			new PolicyStatement({
				actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
				resources: [this.logGroup.logGroupArn],
			}),
		);

		this.function = new NodejsFunction(this, "Function", {
			entry: `${REPOSITORY_ROOT}functions/${props.handlerFolder}/handler.ts`,
			handler: "handler",
			projectRoot: REPOSITORY_ROOT,
			depsLockFilePath: `${REPOSITORY_ROOT}package-lock.json`,
			runtime: Runtime.NODEJS_24_X,
			architecture: Architecture.ARM_64,
			memorySize: props.memorySize,
			timeout: props.timeout,
			role: this.role,
			logGroup: this.logGroup,
			tracing: Tracing.ACTIVE,
			reservedConcurrentExecutions: props.reservedConcurrentExecutions,
			environment: {
				...props.environment,
				POWERTOOLS_SERVICE_NAME: props.serviceName,
				NODE_OPTIONS: "--enable-source-maps",
			},
			bundling: {
				forceDockerBundling: false,
				format: OutputFormat.ESM,
				target: "node24",
				mainFields: ["module", "main"],
				banner: ESM_REQUIRE_BANNER,
				minify: true,
				sourceMap: true,
				sourceMapMode: SourceMapMode.DEFAULT,
				sourcesContent: false,
				// The nodejs24.x runtime ships AWS SDK v3, so the bundle leaves
				// @aws-sdk/* out. A probe that imports the DynamoDB, Secrets
				// Manager and Bedrock Runtime clients with Powertools, middy and
				// zod bundles to 1.14 MB minified with the SDK and 0.49 MB without
				// it (esbuild 0.28), and chat must stay under 1 MB. The cost is
				// that the SDK version is the runtime's, not the lockfile's.
				externalModules: ["@aws-sdk/*"],
			},
		});

		Validations.of(this.function).acknowledge({
			id: "AwsSolutions-L1",
			reason:
				"The handlers are developed and tested on Node.js 24 (package.json engines, local runtime, test suite), so the functions run nodejs24.x; move to a newer runtime together with the toolchain.",
		});
		// X-Ray has no resource-level permissions: PutTraceSegments and
		// PutTelemetryRecords only accept "*".
		Validations.of(this.role).acknowledge({
			id: "AwsSolutions-IAM5[Resource::*]",
			reason:
				'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support only the resource "*".',
		});
	}
}
