import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../../app/model';
import type { ChirpCache } from './cache';
import type { ChirpFunction } from './chirp-function';

export interface MonitoringProps {
  /** Subscribed to every alarm by email. @default - none (subscribe later) */
  readonly alarmEmail?: string;
  /** Route functions by route id (dashboard rows, per-function alarms). */
  readonly routeFunctions: ReadonlyMap<string, ChirpFunction>;
  /** The event-driven functions (per-function alarms). */
  readonly eventFunctions: readonly ChirpFunction[];
  /** The function the tweets stream drives: iterator age and dropped records. */
  readonly fanout: ChirpFunction;
  /** The function S3 invokes asynchronously: dropped events. */
  readonly transcoder: ChirpFunction;
  /** Failure queues by what they hold; any visible message is data the system failed to process. */
  readonly failureQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly httpApi: apigwv2.IHttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly cache: ChirpCache;
  readonly tables: readonly dynamodb.ITableV2[];
  /** The sweeper's schedule: its timeout count is evaluated over one run. */
  readonly sweeperScheduleMinutes: number;
}

/** Thresholds defended in docs/operations.md. */
export const ALARM_THRESHOLDS = {
  /** Timelines should show a tweet within seconds; a minute behind for 5 minutes is an outage. */
  fanoutIteratorAgeMs: 60_000,
  api5xxPercent: 1,
  /** Below this many requests in 5 minutes a 5xx rate says nothing. */
  api5xxMinRequests: 50,
  apiP99LatencyMs: 1000,
  /** Share of a configured cache maximum that warns before the cache throttles. */
  cacheLimitShare: 0.8,
} as const;

/**
 * Operating Chirp: an SNS topic every alarm notifies (on ALARM and on OK), the alarms of
 * docs/operations.md, and a dashboard of the golden signals per route, fanout lag, cache hit
 * ratio, media outcomes and queue depths. The topic is encrypted with a key of its own, since
 * CloudWatch cannot publish to a topic under the AWS-managed SNS key.
 */
export class Monitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Chirp alarm topic',
      enableKeyRotation: true,
    });
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Chirp alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    this.queueAlarms(props.failureQueues);
    this.fanoutAlarms(props.fanout);
    this.transcoderAlarms(props.transcoder);
    for (const [routeId, fn] of props.routeFunctions) this.functionAlarms(routeId, fn);
    for (const fn of props.eventFunctions) this.functionAlarms(fn.spec.id, fn);
    this.apiAlarms(props.stage);
    this.cacheAlarms(props.cache);
    for (const table of props.tables) this.tableAlarms(table);
    this.alarm('MediaStuck', {
      description:
        'The media sweeper marked media stuck in processing as failed: the transcoder dies or times out (runbook: Media stuck).',
      metric: appMetric(METRICS.names.mediaProcessingTimeouts, 'MediaSweeper', {
        period: Duration.minutes(props.sweeperScheduleMinutes),
      }),
      threshold: 1,
    });

    this.dashboard = this.buildDashboard(props);
  }

  private alarm(
    id: string,
    options: {
      description: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
      comparison?: cloudwatch.ComparisonOperator;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? options.evaluationPeriods ?? 1,
      comparisonOperator:
        options.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data is the normal state of most of these (no failures, no traffic).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new actions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  private queueAlarms(queues: Readonly<Record<string, sqs.IQueue>>): void {
    for (const [name, queue] of Object.entries(queues)) {
      this.alarm(`${name}FailureQueueNotEmpty`, {
        description: `${name} failure queue holds a message: data the system failed to process (runbook: Failure queue not empty).`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
      });
    }
  }

  private fanoutAlarms(fanout: ChirpFunction): void {
    this.alarm('FanoutIteratorAge', {
      description:
        'The fanout is more than a minute behind the tweets stream: new tweets reach home timelines late (runbook: Fanout behind).',
      metric: fanout.metric('IteratorAge', {
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: ALARM_THRESHOLDS.fanoutIteratorAgeMs,
      evaluationPeriods: 5,
    });
    this.droppedAlarm(
      'FanoutRecordsDropped',
      'The stream event source mapping gave up on records (sent to the failure queue) or could not deliver them there (runbook: Fanout records dropped).',
      fanout,
      ['DroppedEventCount', 'OnFailureDestinationDeliveryFailures'],
    );
  }

  private transcoderAlarms(transcoder: ChirpFunction): void {
    this.droppedAlarm(
      'TranscoderEventsDropped',
      'S3 upload events the transcoder never processed: dropped after retries or age, or not delivered to its failure queue (runbook: Failure queue not empty).',
      transcoder,
      ['AsyncEventsDropped', 'DestinationDeliveryFailures'],
    );
  }

  /** Any event a function's event source gave up on, or could not hand to its failure queue. */
  private droppedAlarm(
    id: string,
    description: string,
    fn: ChirpFunction,
    [dropped, undelivered]: readonly [string, string],
  ): void {
    this.alarm(id, {
      description,
      metric: new cloudwatch.MathExpression({
        expression: 'dropped + undelivered',
        usingMetrics: {
          dropped: fn.metric(dropped, { statistic: cloudwatch.Stats.SUM }),
          undelivered: fn.metric(undelivered, { statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.minutes(5),
        label: `${id} (events)`,
      }),
      threshold: 1,
    });
  }

  /** One alarm per function and signal, so the alarm's name says which function. */
  private functionAlarms(name: string, fn: ChirpFunction): void {
    this.alarm(`${name}Errors`, {
      description: `${name} failed invocations (crash, timeout, out of memory): handlers turn every expected failure into a response, so each one is a bug or an exhausted limit (runbook: Function errors).`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
    });
    this.alarm(`${name}Throttles`, {
      description: `${name} invocations refused for lack of concurrency (runbook: Function throttles).`,
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
    });
  }

  private apiAlarms(stage: apigwv2.HttpStage): void {
    const period = Duration.minutes(5);
    this.alarm('Api5xxRate', {
      description: `More than ${ALARM_THRESHOLDS.api5xxPercent}% of API requests answered 5xx over 5 minutes, twice in a row (runbook: API errors).`,
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${ALARM_THRESHOLDS.api5xxMinRequests}, 100 * errors / requests, 0)`,
        usingMetrics: {
          errors: stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
          requests: stage.metricCount({ period, statistic: cloudwatch.Stats.SUM }),
        },
        period,
        label: 'API 5xx %',
      }),
      threshold: ALARM_THRESHOLDS.api5xxPercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
    });
    this.alarm('ApiLatencyP99', {
      description: `API p99 latency above ${ALARM_THRESHOLDS.apiP99LatencyMs} ms for 15 minutes (runbook: API slow).`,
      metric: stage.metricLatency({ period, statistic: cloudwatch.Stats.p(99) }),
      threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
    });
  }

  private cacheAlarms(cache: ChirpCache): void {
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { clusterId: cache.cacheName },
        period: Duration.minutes(1),
        statistic,
      });
    const share = ALARM_THRESHOLDS.cacheLimitShare;
    this.alarm('CacheThrottled', {
      description:
        'The cache throttled commands: they fail, so requests fall back to DynamoDB (runbook: Cache limits).',
      metric: metric('ThrottledCmds', cloudwatch.Stats.SUM),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    this.alarm('CacheEcpuNearMax', {
      description: `Cache ECPU use above ${share * 100}% of its configured maximum (${cache.maxEcpuPerSecond}/s) for 5 minutes (runbook: Cache limits).`,
      // ElastiCacheProcessingUnits is a per-minute sum: divided by 60 it is ECPU per second.
      metric: new cloudwatch.MathExpression({
        expression: 'ecpu / 60',
        usingMetrics: { ecpu: metric('ElastiCacheProcessingUnits', cloudwatch.Stats.SUM) },
        period: Duration.minutes(1),
        label: 'ECPU per second',
      }),
      threshold: share * cache.maxEcpuPerSecond,
      evaluationPeriods: 5,
    });
    this.alarm('CacheStorageNearMax', {
      description: `Cache data above ${share * 100}% of its configured maximum (${cache.maxDataStorageGb} GB) (runbook: Cache limits).`,
      metric: metric('BytesUsedForCache', cloudwatch.Stats.MAXIMUM),
      threshold: share * cache.maxDataStorageGb * 1e9,
      evaluationPeriods: 5,
    });
  }

  private tableAlarms(table: dynamodb.ITableV2): void {
    const name = table.node.id;
    const operations = [
      'GetItem',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'Query',
      'BatchGetItem',
      'BatchWriteItem',
      'TransactWriteItems',
    ] as dynamodb.Operation[];
    const period = Duration.minutes(5);
    this.alarm(`${name}Throttled`, {
      description: `${name} table throttled requests (on-demand: a partition is hot, or account limits) (runbook: DynamoDB).`,
      metric: table.metricThrottledRequestsForOperations({ operations, period }),
      threshold: 1,
      evaluationPeriods: 2,
    });
    this.alarm(`${name}SystemErrors`, {
      description: `${name} table returned 500s (DynamoDB's own errors; the SDK retried them) (runbook: DynamoDB).`,
      metric: table.metricSystemErrorsForOperations({ operations, period }),
      threshold: 1,
      evaluationPeriods: 2,
    });
  }

  private buildDashboard(props: MonitoringProps): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const period = Duration.minutes(1);
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# Chirp\nGolden signals per route, fanout lag, cache, media, queues. Runbook: docs/operations.md.',
        width: 24,
        height: 1,
      }),
    );
    for (const [routeId, fn] of props.routeFunctions) {
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${routeId}: rate and errors`,
          left: [fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM })],
          right: [
            fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
            appMetric(METRICS.names.rateLimited, routeId, { period }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${routeId}: duration p50 / p99`,
          left: [
            fn.metricDuration({ period, statistic: cloudwatch.Stats.p(50) }),
            fn.metricDuration({ period, statistic: cloudwatch.Stats.p(99) }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${routeId}: cache hit ratio %`,
          left: [
            new cloudwatch.MathExpression({
              expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses))',
              usingMetrics: {
                hits: appMetric(METRICS.names.cacheHit, routeId, { period }),
                misses: appMetric(METRICS.names.cacheMiss, routeId, { period }),
              },
              period,
              label: 'hit %',
            }),
          ],
          leftYAxis: { min: 0, max: 100 },
          width: 8,
        }),
      );
    }
    const kinds = ['image', 'video'];
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API stage: requests, 4xx, 5xx',
        left: [props.stage.metricCount({ period, statistic: cloudwatch.Stats.SUM })],
        right: [
          props.stage.metricClientError({ period, statistic: cloudwatch.Stats.SUM }),
          props.stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API stage: latency p50 / p99',
        left: [
          props.stage.metricLatency({ period, statistic: cloudwatch.Stats.p(50) }),
          props.stage.metricLatency({ period, statistic: cloudwatch.Stats.p(99) }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Fanout: lag (iterator age, ms)',
        left: [props.fanout.metric('IteratorAge', { period, statistic: cloudwatch.Stats.MAXIMUM })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Fanout: deliveries, timelines skipped, celebrity merges',
        left: [
          appMetric(METRICS.names.fanoutDeliveries, 'Fanout', { period }),
          appMetric(METRICS.names.fanoutTimelinesSkipped, 'Fanout', { period }),
          appMetric(METRICS.names.celebrityMerges, 'GetTimeline', { period }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Failure queues: visible messages',
        left: Object.entries(props.failureQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: name,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Media: processed / failed by kind',
        left: kinds.flatMap((kind) => [
          appMetric(METRICS.names.mediaProcessed, 'Transcoder', { period, kind }),
          appMetric(METRICS.names.mediaFailed, 'Transcoder', { period, kind }),
        ]),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Media: processing time p50 / p99 (ms)',
        left: kinds.flatMap((kind) =>
          [50, 99].map((p) =>
            appMetric(METRICS.names.mediaProcessingMs, 'Transcoder', {
              period,
              kind,
              statistic: cloudwatch.Stats.p(p),
            }),
          ),
        ),
        width: 12,
      }),
    );
    return dashboard;
  }
}

/** An application metric (METRICS) of one function, by its `service` dimension. */
function appMetric(
  metricName: string,
  service: string,
  options: { period: Duration; kind?: string; statistic?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: {
      service,
      ...(options.kind !== undefined ? { [METRICS.dimensions.mediaKind]: options.kind } : {}),
    },
    period: options.period,
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    ...(options.kind !== undefined ? { label: `${metricName} ${options.kind}` } : {}),
  });
}
