import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ENV, type StreamConsumerSpec } from '../../app/model';
import type { ChirpFunction, ChirpResources } from './chirp-function';
import type { FailureQueue } from './failure-queue';
import { addStreamConsumer } from './stream-consumer';

export interface FanoutProps {
  /** The app model's fanout function. */
  readonly spec: StreamConsumerSpec;
  readonly resources: ChirpResources;
  /** The table whose stream feeds the fanout (the tweets table). */
  readonly table: dynamodb.ITableV2;
  /**
   * Attempts per batch before its records go to the failure queue.
   * @default unlimited: a record is retried until it is older than `maxRecordAge`
   */
  readonly retryAttempts?: number;
  /**
   * How long a record may wait for a successful fanout before it goes to the failure queue. Long,
   * because fanout failures are outages (Redis or DynamoDB), not bad records, and a record given
   * up on is a tweet missing from its followers' timelines until they are rebuilt.
   * @default 6 hours
   */
  readonly maxRecordAge?: Duration;
  /**
   * Timelines one invocation writes per second, sized from the cache's ECPU cap
   * (fanoutDeliveriesPerSecond in the app model).
   */
  readonly deliveriesPerSecond: number;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * Tweet writes to home timelines: the tweets table's stream drives the fanout function. Failures
 * are reported per record (ReportBatchItemFailures), a failing batch is bisected to isolate the
 * poison record, and records are retried through outages until they are `maxRecordAge` old; only
 * then do their stream coordinates go to an SQS queue. Timelines are a cache that a read rebuilds,
 * so even a skipped record costs freshness, never data.
 */
export class Fanout extends Construct {
  public readonly function: ChirpFunction;
  public readonly failures: FailureQueue;

  constructor(scope: Construct, id: string, props: FanoutProps) {
    super(scope, id);
    const consumer = addStreamConsumer(this, {
      spec: props.spec,
      resources: props.resources,
      table: props.table,
      failurePurpose: 'tweet stream records the fanout could not apply after its retries',
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
      environment: { [ENV.fanoutDeliveriesPerSecond]: String(props.deliveriesPerSecond) },
      projectRoot: props.projectRoot,
    });
    this.function = consumer.function;
    this.failures = consumer.failures;
  }
}
