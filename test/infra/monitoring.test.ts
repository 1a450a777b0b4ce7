/**
 * Operating Chirp: the alarm topic, every alarm of docs/operations.md (each notifying the topic on
 * ALARM and OK), and the dashboard, asserted by intent on the synthesized template.
 */
import * as fs from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { EVENT_FUNCTIONS, METRICS, ROUTES } from '../../app/model';
import { ALARM_THRESHOLDS } from '../../lib/constructs/monitoring';
import type { ChirpStack } from '../../lib/chirp-stack';
import { logicalId, resourceOf, synthChirp, type Synthesized } from './synth';

let synthesized: Synthesized;
let template: Template;
let stack: ChirpStack;

beforeAll(() => {
  synthesized = synthChirp({ context: { alarmEmail: 'oncall@example.com' } });
  ({ template, stack } = synthesized);
});
afterAll(() => fs.rmSync(synthesized.outdir, { recursive: true, force: true }));

type Resource = { Properties: Record<string, unknown> };
const alarms = (): Record<string, Resource> =>
  template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
const topicRef = () => ({ Ref: logicalId(stack, stack.monitoring.topic) });

describe('alarm topic', () => {
  it('is encrypted, TLS-only and subscribes the -c alarmEmail address', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: topicRef(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
  });

  it('has no subscription without alarmEmail', () => {
    const plain = synthChirp();
    try {
      plain.template.resourceCountIs('AWS::SNS::Subscription', 0);
    } finally {
      fs.rmSync(plain.outdir, { recursive: true, force: true });
    }
  });

  it('every alarm notifies the topic on ALARM and on OK', () => {
    const all = Object.values(alarms());
    expect(all.length).toBeGreaterThan(0);
    for (const alarm of all) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions).toEqual([topicRef()]);
    }
  });
});

describe('alarms', () => {
  it('fires on any message in each failure queue', () => {
    for (const queue of [stack.fanout.failures.queue, stack.transcoder.failures.queue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it("watches the fanout's iterator age and its dropped records", () => {
    const fanout = { Ref: logicalId(stack, stack.fanout.function) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: fanout }],
      Threshold: ALARM_THRESHOLDS.fanoutIteratorAgeMs,
      EvaluationPeriods: 5,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'DroppedEventCount' }),
          }),
        }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'OnFailureDestinationDeliveryFailures' }),
          }),
        }),
      ]),
    });
  });

  it('has an errors and a throttles alarm per function, named after it', () => {
    for (const spec of [...ROUTES, ...EVENT_FUNCTIONS]) {
      for (const metric of ['Errors', 'Throttles']) {
        const named = Object.values(alarms()).filter(
          (alarm) =>
            alarm.Properties.MetricName === metric &&
            String(alarm.Properties.AlarmDescription).startsWith(`${spec.id} `),
        );
        expect(named).toHaveLength(1);
      }
    }
  });

  it('watches the API 5xx rate and p99 latency of the stage', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('100 \\* errors / requests') }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: '5xx', Namespace: 'AWS/ApiGateway' }),
          }),
        }),
      ]),
      Threshold: ALARM_THRESHOLDS.api5xxPercent,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      ExtendedStatistic: 'p99',
      Threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
    });
  });

  it('watches cache throttling and the ECPU and storage maxima', () => {
    const clusterId = [{ Name: 'clusterId', Value: stack.cache.cacheName }];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ThrottledCmds',
      Namespace: 'AWS/ElastiCache',
      Dimensions: clusterId,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: ALARM_THRESHOLDS.cacheLimitShare * stack.cache.maxEcpuPerSecond,
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'ElastiCacheProcessingUnits',
              Dimensions: clusterId,
            }),
          }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BytesUsedForCache',
      Dimensions: clusterId,
      Threshold: ALARM_THRESHOLDS.cacheLimitShare * stack.cache.maxDataStorageGb * 1e9,
    });
  });

  it('watches throttled requests and system errors of each table', () => {
    for (const table of [stack.tables.byId.get('Tweets'), stack.tables.byId.get('Metadata')]) {
      const name = { Ref: logicalId(stack, table!) };
      for (const metricName of ['ThrottledRequests', 'SystemErrors']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Metrics: Match.arrayWith([
            Match.objectLike({
              MetricStat: Match.objectLike({
                Metric: Match.objectLike({
                  MetricName: metricName,
                  Dimensions: Match.arrayWith([{ Name: 'TableName', Value: name }]),
                }),
              }),
            }),
          ]),
        });
      }
    }
  });

  it('fires when the sweeper finds media stuck in processing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS.namespace,
      MetricName: METRICS.names.mediaProcessingTimeouts,
      Dimensions: [{ Name: 'service', Value: 'MediaSweeper' }],
      Threshold: 1,
    });
  });
});

describe('dashboard', () => {
  it('exists, is a stack output, and shows every route and the application metrics', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasOutput('DashboardName', {
      Value: { Ref: logicalId(stack, stack.monitoring.dashboard) },
    });
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0],
    );
    for (const route of ROUTES) expect(body).toContain(`${route.id}: rate and errors`);
    for (const name of [
      METRICS.names.cacheHit,
      METRICS.names.fanoutDeliveries,
      METRICS.names.mediaProcessed,
      METRICS.names.mediaProcessingMs,
      'IteratorAge',
      'ApproximateNumberOfMessagesVisible',
    ]) {
      expect(body).toContain(name);
    }
  });
});

describe('per-user limits from context', () => {
  it('reach every route function as its environment, and only the route functions', () => {
    const limited = synthChirp({
      context: { rateLimits: 'write=120/60', maxFollowees: '7500' },
    });
    try {
      const env = (fn: import('../../lib/constructs/chirp-function').ChirpFunction) =>
        (
          resourceOf(limited.template, logicalId(limited.stack, fn)).Properties.Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
      for (const fn of limited.stack.api.functions.values()) {
        expect(env(fn)).toMatchObject({ RATE_LIMITS: 'write=120/60', MAX_FOLLOWEES: '7500' });
      }
      expect(env(limited.stack.fanout.function).RATE_LIMITS).toBeUndefined();
    } finally {
      fs.rmSync(limited.outdir, { recursive: true, force: true });
    }
  });
});
