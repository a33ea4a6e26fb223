import { CfnWebACL, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";

export interface ApiWebAclProps {
	/** ARN of the API Gateway stage to protect. */
	stageArn: string;
	/** Requests per 5 minutes from one IP address before WAF blocks it. */
	rateLimitPer5Minutes: number;
}

interface ManagedGroup {
	name: string;
	/** Rules of the group that count instead of block. */
	countOnly?: string[];
}

const MANAGED_GROUPS: ManagedGroup[] = [
	{
		name: "AWSManagedRulesCommonRuleSet",
		// Chat bodies routinely exceed the 8 KB that SizeRestrictions_BODY
		// allows, and prompts about web code contain HTML that
		// CrossSiteScripting_BODY matches. The body is model input, never
		// rendered, so both rules only count.
		countOnly: ["SizeRestrictions_BODY", "CrossSiteScripting_BODY"],
	},
	{ name: "AWSManagedRulesKnownBadInputsRuleSet" },
	{ name: "AWSManagedRulesAmazonIpReputationList" },
];

/**
 * A regional WAF web ACL on the API stage: the AWS managed common,
 * known-bad-inputs and IP reputation rule groups, plus a per-IP rate limit.
 */
export class ApiWebAcl extends Construct {
	readonly webAcl: CfnWebACL;

	constructor(scope: Construct, id: string, props: ApiWebAclProps) {
		super(scope, id);

		const managedRules: CfnWebACL.RuleProperty[] = MANAGED_GROUPS.map(
			(group, index) => ({
				name: group.name,
				priority: index,
				overrideAction: { none: {} },
				statement: {
					managedRuleGroupStatement: {
						vendorName: "AWS",
						name: group.name,
						ruleActionOverrides: group.countOnly?.map((rule) => ({
							name: rule,
							actionToUse: { count: {} },
						})),
					},
				},
				visibilityConfig: visibility(group.name),
			}),
		);
		const rateRule: CfnWebACL.RuleProperty = {
			name: "RateLimitPerIp",
			priority: MANAGED_GROUPS.length,
			action: { block: {} },
			statement: {
				rateBasedStatement: {
					aggregateKeyType: "IP",
					limit: props.rateLimitPer5Minutes,
					evaluationWindowSec: 300,
				},
			},
			visibilityConfig: visibility("RateLimitPerIp"),
		};

		this.webAcl = new CfnWebACL(this, "WebAcl", {
			scope: "REGIONAL",
			defaultAction: { allow: {} },
			rules: [...managedRules, rateRule],
			visibilityConfig: visibility("GatewayApi"),
		});
		new CfnWebACLAssociation(this, "Association", {
			resourceArn: props.stageArn,
			webAclArn: this.webAcl.attrArn,
		});
	}
}

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
	return {
		cloudWatchMetricsEnabled: true,
		metricName,
		sampledRequestsEnabled: true,
	};
}
