import { existsSync } from "node:fs";
import {
	CfnOutput,
	DefaultStackSynthesizer,
	Duration,
	RemovalPolicy,
	Stack,
	type StackProps,
	Validations,
} from "aws-cdk-lib";
import { Certificate } from "aws-cdk-lib/aws-certificatemanager";
import {
	Distribution,
	HeadersFrameOption,
	HeadersReferrerPolicy,
	PriceClass,
	ResponseHeadersPolicy,
	SecurityPolicyProtocol,
	ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { S3BucketOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import {
	BlockPublicAccess,
	Bucket,
	BucketEncryption,
	type CfnBucket,
	ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { BucketDeployment, Source } from "aws-cdk-lib/aws-s3-deployment";
import { CfnWebACL } from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import type { CellConfig } from "../cells.ts";
import { REPOSITORY_ROOT } from "../constructs/gateway-function.ts";
import { portalContentSecurityPolicy } from "../constructs/portal-csp.ts";
import type { GatewayStack } from "./gateway-stack.ts";

/** Built portal; `npm run build:site` writes it. */
export const SITE_DIST = `${REPOSITORY_ROOT}site/dist`;
const PLACEHOLDER_SITE = new URL("./portal-placeholder", import.meta.url)
	.pathname;

export interface PortalCell {
	cell: CellConfig;
	stack: GatewayStack;
}

export interface PortalStackProps extends StackProps {
	cells: readonly PortalCell[];
	/** Custom domain and its us-east-1 ACM certificate, when the operator has one. */
	customDomain?: { domainName: string; certificateArn: string };
}

/** One entry of the portal's config.json. */
export interface PortalCellConfig {
	id: string;
	name: string;
	region: string;
	apiUrl: string;
	userPoolId: string;
	userPoolClientId: string;
	cognitoDomainUrl: string;
}

/**
 * The static portal: a private S3 bucket served by CloudFront through Origin
 * Access Control, with security headers, a WAF web ACL and access logs. The
 * stack deploys in us-east-1, where CloudFront's WAF web ACLs and
 * certificates must live.
 */
export class PortalStack extends Stack {
	readonly distribution: Distribution;
	readonly siteBucket: Bucket;
	readonly logBucket: Bucket;
	/** Whether site/dist existed at synth time; if not, a placeholder page is deployed. */
	readonly siteBuilt: boolean;

	constructor(scope: Construct, id: string, props: PortalStackProps) {
		super(scope, id, props);

		this.logBucket = new Bucket(this, "LogBucket", {
			blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
			encryption: BucketEncryption.S3_MANAGED,
			enforceSSL: true,
			// CloudFront standard logging writes through a bucket ACL grant.
			objectOwnership: ObjectOwnership.OBJECT_WRITER,
			lifecycleRules: [{ expiration: Duration.days(90) }],
			removalPolicy: RemovalPolicy.RETAIN,
		});
		Validations.of(this.logBucket).acknowledge({
			id: "AwsSolutions-S1",
			reason:
				"This bucket receives the site bucket's server access logs and CloudFront's logs; logging its own access would write logs about logs.",
		});

		this.siteBucket = new Bucket(this, "SiteBucket", {
			blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
			encryption: BucketEncryption.S3_MANAGED,
			enforceSSL: true,
			serverAccessLogsBucket: this.logBucket,
			serverAccessLogsPrefix: "s3/",
			removalPolicy: RemovalPolicy.DESTROY,
			autoDeleteObjects: false,
		});

		const headers = new ResponseHeadersPolicy(this, "SecurityHeaders", {
			comment: "Security headers of the Global AI Gateway portal",
			securityHeadersBehavior: {
				contentSecurityPolicy: {
					contentSecurityPolicy: portalContentSecurityPolicy(
						props.cells.map((entry) => entry.cell),
					),
					override: true,
				},
				strictTransportSecurity: {
					accessControlMaxAge: Duration.days(365),
					includeSubdomains: true,
					preload: true,
					override: true,
				},
				contentTypeOptions: { override: true },
				frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
				referrerPolicy: {
					referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
					override: true,
				},
			},
		});

		const webAcl = this.createWebAcl();
		const custom = props.customDomain;
		this.distribution = new Distribution(this, "Distribution", {
			comment: "Global AI Gateway portal",
			defaultRootObject: "index.html",
			defaultBehavior: {
				origin: S3BucketOrigin.withOriginAccessControl(this.siteBucket),
				viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
				responseHeadersPolicy: headers,
			},
			// Client-side routes have no object in S3: serve the app shell and
			// let the router pick the page.
			errorResponses: [403, 404].map((httpStatus) => ({
				httpStatus,
				responseHttpStatus: 200,
				responsePagePath: "/index.html",
				ttl: Duration.seconds(10),
			})),
			...(custom
				? {
						minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
						domainNames: [custom.domainName],
						certificate: Certificate.fromCertificateArn(
							this,
							"Certificate",
							custom.certificateArn,
						),
					}
				: {}),
			priceClass: PriceClass.PRICE_CLASS_ALL,
			enableLogging: true,
			logBucket: this.logBucket,
			logFilePrefix: "cloudfront/",
			webAclId: webAcl.attrArn,
		});
		this.acknowledgeDistributionFindings(custom !== undefined);

		this.siteBuilt = existsSync(SITE_DIST);
		// NOTE: when site/dist is missing (the portal not built yet), the
		// stack deploys a placeholder page so that synth works on a fresh
		// checkout. Build the site before deploying for real.
		const siteSource = Source.asset(
			this.siteBuilt ? SITE_DIST : PLACEHOLDER_SITE,
		);
		new BucketDeployment(this, "DeploySite", {
			sources: [
				siteSource,
				Source.jsonData("config.json", {
					cells: props.cells.map(portalCellConfig),
				}),
			],
			destinationBucket: this.siteBucket,
			distribution: this.distribution,
			distributionPaths: ["/*"],
			memoryLimit: 512,
		});
		this.acknowledgeDeploymentFunction();

		new CfnOutput(this, "PortalUrl", {
			value: `https://${custom ? custom.domainName : this.distribution.distributionDomainName}`,
		});
	}

	private createWebAcl(): CfnWebACL {
		const groups = [
			"AWSManagedRulesCommonRuleSet",
			"AWSManagedRulesKnownBadInputsRuleSet",
			"AWSManagedRulesAmazonIpReputationList",
		];
		return new CfnWebACL(this, "WebAcl", {
			scope: "CLOUDFRONT",
			defaultAction: { allow: {} },
			rules: groups.map((name, priority) => ({
				name,
				priority,
				overrideAction: { none: {} },
				statement: {
					managedRuleGroupStatement: { vendorName: "AWS", name },
				},
				visibilityConfig: {
					cloudWatchMetricsEnabled: true,
					metricName: name,
					sampledRequestsEnabled: true,
				},
			})),
			visibilityConfig: {
				cloudWatchMetricsEnabled: true,
				metricName: "GatewayPortal",
				sampledRequestsEnabled: true,
			},
		});
	}

	private acknowledgeDistributionFindings(hasCustomDomain: boolean): void {
		Validations.of(this.distribution).acknowledge({
			id: "AwsSolutions-CFR1",
			reason:
				"The portal serves customers in every country the operator sells to; access is controlled by Cognito sign-in, not geography.",
		});
		if (!hasCustomDomain) {
			Validations.of(this.distribution).acknowledge({
				id: "AwsSolutions-CFR4",
				reason:
					"Without a custom domain the distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the minimum TLS version; pass portalDomain and portalCertificateArn to enforce TLS 1.2.",
			});
		}
	}

	/** Wildcards in the policy that the CDK gives the BucketDeployment function. */
	private bucketDeploymentWildcards(): string[] {
		const siteBucketId = this.getLogicalId(
			this.siteBucket.node.defaultChild as CfnBucket,
		);
		const assetBucket = `cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-<AWS::AccountId>-${this.region}`;
		return [
			"Action::s3:GetObject*",
			"Action::s3:GetBucket*",
			"Action::s3:List*",
			"Action::s3:DeleteObject*",
			"Action::s3:Abort*",
			`Resource::arn:<AWS::Partition>:s3:::${assetBucket}/*`,
			`Resource::<${siteBucketId}.Arn>/*`,
			"Resource::*",
		];
	}

	/** The BucketDeployment function is a singleton that the CDK defines. */
	private acknowledgeDeploymentFunction(): void {
		for (const child of this.node.children) {
			if (!child.node.id.startsWith("Custom::CDKBucketDeployment")) {
				continue;
			}
			Validations.of(child).acknowledge({
				id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
				reason:
					"The CDK's BucketDeployment function defines its own role with the AWS managed basic execution policy; it runs only during deployments.",
			});
			const deploymentReason =
				"The CDK's BucketDeployment function copies the built site from the CDK asset bucket into the site bucket and invalidates the distribution; its policy, defined by the CDK, uses wildcard actions on those two buckets and CloudFront invalidations.";
			for (const finding of this.bucketDeploymentWildcards()) {
				Validations.of(child).acknowledge({
					id: `AwsSolutions-IAM5[${finding}]`,
					reason: deploymentReason,
				});
			}
			Validations.of(child).acknowledge({
				id: "AwsSolutions-L1",
				reason:
					"The CDK's BucketDeployment function pins its own runtime, which this app cannot change; it runs only during deployments.",
			});
		}
	}
}

function portalCellConfig(entry: PortalCell): PortalCellConfig {
	return {
		id: entry.cell.id,
		name: entry.cell.name,
		region: entry.cell.region,
		apiUrl: entry.stack.api.restApi.url,
		userPoolId: entry.stack.users.userPool.userPoolId,
		userPoolClientId: entry.stack.users.client.userPoolClientId,
		cognitoDomainUrl: entry.stack.users.domain.baseUrl(),
	};
}
