import { Duration } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import {
	Alarm,
	ComparisonOperator,
	Dashboard,
	GraphWidget,
	type IMetric,
	MathExpression,
	Metric,
	TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import {
	METRIC_NAMES,
	METRIC_NAMESPACE,
	SERVICE_DIMENSION,
	SERVICE_NAMES,
} from "../../functions/observability/metric-names.ts";

export interface GatewayAlarmsProps {
	cellId: string;
	restApi: RestApi;
	chatFunction: IFunction;
	reconcilerFunction: IFunction;
	table: ITableV2;
}

/**
 * Alarm thresholds. They are starting points for a new cell, not measured
 * values: tune them once a cell has real traffic.
 */
export const ALARM_THRESHOLDS = {
	/** API 5xx responses per 5 minutes. */
	api5xxPer5Minutes: 10,
	/** Chat function errors per 5 minutes. */
	chatErrorsPer5Minutes: 5,
	/** Chat function throttles per 5 minutes. */
	chatThrottlesPer5Minutes: 1,
	/** Percentage of chat requests served by a fallback candidate. */
	fallbackRatePercent: 20,
	/** Minutes in a row with reservations past expiry before alarming. */
	reconcilerBacklogMinutes: 5,
	/** DynamoDB read and write throttle events per 5 minutes. */
	tableThrottlesPer5Minutes: 1,
} as const;

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The cell's alarms, all sent to one encrypted SNS topic, and a dashboard
 * with the same metrics. Subscribe operators to the topic after deploying.
 */
export class GatewayAlarms extends Construct {
	readonly topic: Topic;
	readonly alarms: Alarm[] = [];
	readonly dashboard: Dashboard;

	constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
		super(scope, id);

		// CloudWatch cannot publish to a topic encrypted with the AWS managed
		// SNS key, so the topic gets a customer managed key that CloudWatch
		// may use.
		const topicKey = new Key(this, "TopicKey", {
			enableKeyRotation: true,
			description: `Encrypts the alarm topic of cell ${props.cellId}`,
		});
		topicKey.addToResourcePolicy(
			new PolicyStatement({
				principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
				actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
				resources: ["*"],
			}),
		);
		this.topic = new Topic(this, "Topic", {
			displayName: `Global AI Gateway alarms, cell ${props.cellId}`,
			masterKey: topicKey,
			enforceSSL: true,
		});

		const metrics = gatewayMetrics(props);
		this.addAlarm("Api5xx", {
			metric: metrics.api5xx,
			threshold: ALARM_THRESHOLDS.api5xxPer5Minutes,
			description: "API Gateway returned 5xx responses.",
		});
		this.addAlarm("ChatErrors", {
			metric: metrics.chatErrors,
			threshold: ALARM_THRESHOLDS.chatErrorsPer5Minutes,
			description: "The chat function failed invocations.",
		});
		this.addAlarm("ChatThrottles", {
			metric: metrics.chatThrottles,
			threshold: ALARM_THRESHOLDS.chatThrottlesPer5Minutes,
			description:
				"Lambda throttled the chat function: raise its concurrency quota.",
		});
		this.addAlarm("FallbackRate", {
			metric: metrics.fallbackRatePercent,
			threshold: ALARM_THRESHOLDS.fallbackRatePercent,
			evaluationPeriods: 2,
			description:
				"Too many chat requests needed a fallback provider: check provider health.",
		});
		this.addAlarm("ReconcilerBacklog", {
			metric: metrics.openReservationsPastExpiry,
			threshold: 0,
			comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
			evaluationPeriods: ALARM_THRESHOLDS.reconcilerBacklogMinutes,
			// The reconciler emits the metric every minute, zero included, so
			// a missing value means it stopped running.
			treatMissingData: TreatMissingData.BREACHING,
			description:
				"Reservations past expiry are not being settled or released: check the reconciler.",
		});
		this.addAlarm("TableThrottles", {
			metric: metrics.tableThrottles,
			threshold: ALARM_THRESHOLDS.tableThrottlesPer5Minutes,
			description: "DynamoDB throttled reads or writes on the cell's table.",
		});

		this.dashboard = new Dashboard(this, "Dashboard", {
			dashboardName: `gag-${props.cellId}`,
		});
		this.dashboard.addWidgets(
			graph("API requests and errors", [
				props.restApi.metricCount({ period: FIVE_MINUTES }),
				metrics.api5xx,
				props.restApi.metricClientError({ period: FIVE_MINUTES }),
			]),
			graph("Chat function", [
				props.chatFunction.metricInvocations({ period: FIVE_MINUTES }),
				metrics.chatErrors,
				metrics.chatThrottles,
			]),
			graph("Fallback rate (%)", [metrics.fallbackRatePercent]),
		);
		this.dashboard.addWidgets(
			graph("Open reservations past expiry", [
				metrics.openReservationsPastExpiry,
			]),
			graph("DynamoDB throttle events", [metrics.tableThrottles]),
			graph("Chat duration (ms)", [
				props.chatFunction.metricDuration({
					period: FIVE_MINUTES,
					statistic: "p99",
				}),
			]),
		);
	}

	private addAlarm(
		id: string,
		options: {
			metric: IMetric;
			threshold: number;
			description: string;
			evaluationPeriods?: number;
			comparisonOperator?: ComparisonOperator;
			treatMissingData?: TreatMissingData;
		},
	): void {
		const alarm = new Alarm(this, id, {
			metric: options.metric,
			threshold: options.threshold,
			evaluationPeriods: options.evaluationPeriods ?? 1,
			comparisonOperator:
				options.comparisonOperator ??
				ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			treatMissingData:
				options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
			alarmDescription: options.description,
		});
		alarm.addAlarmAction(new SnsAction(this.topic));
		alarm.addOkAction(new SnsAction(this.topic));
		this.alarms.push(alarm);
	}
}

function gatewayMetrics(props: GatewayAlarmsProps) {
	const customMetric = (
		metricName: string,
		service: string,
		statistic: string,
		period: Duration,
	) =>
		new Metric({
			namespace: METRIC_NAMESPACE,
			metricName,
			dimensionsMap: { [SERVICE_DIMENSION]: service },
			statistic,
			period,
		});

	return {
		api5xx: props.restApi.metricServerError({
			period: FIVE_MINUTES,
			statistic: "Sum",
		}),
		chatErrors: props.chatFunction.metricErrors({
			period: FIVE_MINUTES,
			statistic: "Sum",
		}),
		chatThrottles: props.chatFunction.metricThrottles({
			period: FIVE_MINUTES,
			statistic: "Sum",
		}),
		fallbackRatePercent: new MathExpression({
			expression: "IF(requests > 0, 100 * fallbacks / requests, 0)",
			usingMetrics: {
				fallbacks: customMetric(
					METRIC_NAMES.fallbackCount,
					SERVICE_NAMES.chat,
					"Sum",
					FIVE_MINUTES,
				),
				requests: customMetric(
					METRIC_NAMES.requestCount,
					SERVICE_NAMES.chat,
					"Sum",
					FIVE_MINUTES,
				),
			},
			label: "Fallback rate (%)",
			period: FIVE_MINUTES,
		}),
		openReservationsPastExpiry: customMetric(
			METRIC_NAMES.openReservationsPastExpiry,
			SERVICE_NAMES.reconciler,
			"Maximum",
			Duration.minutes(1),
		),
		tableThrottles: new MathExpression({
			expression: "reads + writes",
			usingMetrics: {
				reads: props.table.metric("ReadThrottleEvents", {
					period: FIVE_MINUTES,
					statistic: "Sum",
				}),
				writes: props.table.metric("WriteThrottleEvents", {
					period: FIVE_MINUTES,
					statistic: "Sum",
				}),
			},
			label: "Throttle events",
			period: FIVE_MINUTES,
		}),
	};
}

function graph(title: string, metrics: IMetric[]): GraphWidget {
	return new GraphWidget({ title, left: metrics, width: 8 });
}
