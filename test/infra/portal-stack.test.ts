import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CELLS } from "../../infra/cells.ts";
import { portalContentSecurityPolicy } from "../../infra/constructs/portal-csp.ts";
import {
	resourcesOfType,
	type SynthesizedApp,
	synthesizeApp,
} from "./synth.ts";

let synthesized: SynthesizedApp;
let template: Template;

beforeAll(() => {
	synthesized = synthesizeApp({ cells: "sg,us" });
	template = synthesized.template("gag-portal");
});

describe("portal bucket", () => {
	it("blocks public access and enforces TLS", () => {
		const buckets = Object.values(resourcesOfType(template, "AWS::S3::Bucket"));

		expect(buckets).toHaveLength(2);
		for (const bucket of buckets) {
			expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
				BlockPublicAcls: true,
				BlockPublicPolicy: true,
				IgnorePublicAcls: true,
				RestrictPublicBuckets: true,
			});
			expect(bucket.Properties.BucketEncryption).toBeDefined();
		}
		template.hasResourceProperties("AWS::S3::BucketPolicy", {
			PolicyDocument: {
				Statement: Match.arrayWith([
					Match.objectLike({
						Effect: "Deny",
						Condition: { Bool: { "aws:SecureTransport": "false" } },
					}),
				]),
			},
		});
	});

	it("logs site bucket access", () => {
		template.hasResourceProperties("AWS::S3::Bucket", {
			LoggingConfiguration: {
				DestinationBucketName: { Ref: Match.stringLikeRegexp("^LogBucket") },
				LogFilePrefix: "s3/",
			},
		});
	});
});

describe("portal distribution", () => {
	it("reads S3 through origin access control", () => {
		template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
		template.hasResourceProperties("AWS::CloudFront::Distribution", {
			DistributionConfig: Match.objectLike({
				Origins: [
					Match.objectLike({
						OriginAccessControlId: { "Fn::GetAtt": [Match.anyValue(), "Id"] },
					}),
				],
			}),
		});
	});

	it("serves the app shell for client routes", () => {
		template.hasResourceProperties("AWS::CloudFront::Distribution", {
			DistributionConfig: Match.objectLike({
				CustomErrorResponses: [
					Match.objectLike({
						ErrorCode: 403,
						ResponseCode: 200,
						ResponsePagePath: "/index.html",
					}),
					Match.objectLike({
						ErrorCode: 404,
						ResponseCode: 200,
						ResponsePagePath: "/index.html",
					}),
				],
				DefaultRootObject: "index.html",
			}),
		});
	});

	it("redirects to HTTPS, logs and uses WAF", () => {
		template.hasResourceProperties("AWS::CloudFront::Distribution", {
			DistributionConfig: Match.objectLike({
				DefaultCacheBehavior: Match.objectLike({
					ViewerProtocolPolicy: "redirect-to-https",
					ResponseHeadersPolicyId: {
						Ref: Match.stringLikeRegexp("^SecurityHeaders"),
					},
				}),
				Logging: Match.objectLike({ Prefix: "cloudfront/" }),
				WebACLId: { "Fn::GetAtt": [Match.stringLikeRegexp("^WebAcl"), "Arn"] },
			}),
		});
		template.hasResourceProperties("AWS::WAFv2::WebACL", {
			Scope: "CLOUDFRONT",
		});
	});

	it("sends the security headers", () => {
		const cells = CELLS.filter((cell) => cell.id === "sg" || cell.id === "us");

		template.hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
			ResponseHeadersPolicyConfig: Match.objectLike({
				SecurityHeadersConfig: {
					ContentSecurityPolicy: {
						ContentSecurityPolicy: portalContentSecurityPolicy(cells),
						Override: true,
					},
					StrictTransportSecurity: {
						AccessControlMaxAgeSec: 31_536_000,
						IncludeSubdomains: true,
						Preload: true,
						Override: true,
					},
					ContentTypeOptions: { Override: true },
					FrameOptions: { FrameOption: "DENY", Override: true },
					ReferrerPolicy: {
						ReferrerPolicy: "strict-origin-when-cross-origin",
						Override: true,
					},
				},
			}),
		});
	});
});

describe("portalContentSecurityPolicy", () => {
	it("allows each cell's endpoints", () => {
		const policy = portalContentSecurityPolicy(CELLS);

		for (const cell of CELLS) {
			expect(policy).toContain(
				`https://*.execute-api.${cell.region}.amazonaws.com`,
			);
			expect(policy).toContain(
				`https://cognito-idp.${cell.region}.amazonaws.com`,
			);
		}
		expect(policy).toContain("frame-ancestors 'none'");
		expect(policy).toContain("script-src 'self';");
	});
});

describe("portal config.json", () => {
	it("lists every selected cell", () => {
		const assetDirectory = synthesized.assembly.directory;
		const configs = readdirSync(assetDirectory)
			.filter((name) => name.startsWith("asset."))
			.map((name) => join(assetDirectory, name, "config.json"))
			.flatMap((path) => {
				try {
					return [JSON.parse(readFileSync(path, "utf8"))];
				} catch {
					return [];
				}
			});

		expect(configs).toHaveLength(1);
		const cells = configs[0].cells as { id: string; region: string }[];
		expect(cells.map((cell) => cell.id)).toEqual(["sg", "us"]);
		expect(cells.map((cell) => cell.region)).toEqual([
			"ap-southeast-1",
			"us-east-1",
		]);
		for (const cell of configs[0].cells) {
			expect(Object.keys(cell).sort()).toEqual(
				[
					"apiUrl",
					"cognitoDomainUrl",
					"id",
					"name",
					"region",
					"userPoolClientId",
					"userPoolId",
				].sort(),
			);
		}
	});

	it("reads cell outputs with GetStackOutput", () => {
		const deployments = Object.values(
			resourcesOfType(template, "Custom::CDKBucketDeployment"),
		);
		const markers = JSON.stringify(deployments[0]?.Properties.SourceMarkers);

		expect(markers).toContain(
			'"Fn::GetStackOutput":{"StackName":"gag-sg","Region":"ap-southeast-1"',
		);
		expect(markers).toContain(
			'"Fn::GetStackOutput":{"StackName":"gag-us","Region":"us-east-1"',
		);
		template.resourceCountIs("Custom::CrossRegionExportReader", 0);
	});
});
