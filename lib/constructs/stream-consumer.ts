import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { StreamConsumerSpec } from '../../app/model';
import { ChirpFunction, type ChirpResources } from './chirp-function';
import { FailureQueue } from './failure-queue';

export interface StreamConsumerProps {
  /** The function, with its event source's batch size and batching window. */
  readonly spec: StreamConsumerSpec;
  readonly resources: ChirpResources;
  /** The table whose stream feeds the function. */
  readonly table: dynamodb.ITableV2;
  /** What lands in the failure queue, for its readers. */
  readonly failurePurpose: string;
  /** @default unlimited: retried until older than `maxRecordAge` */
  readonly retryAttempts?: number;
  readonly maxRecordAge: Duration;
  readonly filters?: Array<Record<string, unknown>>;
  /** Extra environment variables of the function. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly projectRoot?: string;
}

/**
 * A function on a table's stream, as every stream consumer here runs: from LATEST, failures
 * reported per record (ReportBatchItemFailures) with the failing batch bisected, retried until
 * `maxRecordAge` (or `retryAttempts`), then the records' coordinates go to an SQS failure queue.
 * Its parts are children of `scope` (ids: the spec's id and 'Failures').
 */
export function addStreamConsumer(
  scope: Construct,
  props: StreamConsumerProps,
): { function: ChirpFunction; failures: FailureQueue } {
  const fn = new ChirpFunction(scope, props.spec.id, {
    spec: props.spec,
    resources: props.resources,
    projectRoot: props.projectRoot,
    ...(props.environment !== undefined ? { environment: props.environment } : {}),
  });
  const failures = new FailureQueue(scope, 'Failures', { purpose: props.failurePurpose });
  fn.addEventSource(
    new DynamoEventSource(props.table, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: props.spec.streamSource.batchSize,
      ...(props.spec.streamSource.maxBatchingWindowSeconds > 0
        ? { maxBatchingWindow: Duration.seconds(props.spec.streamSource.maxBatchingWindowSeconds) }
        : {}),
      bisectBatchOnError: true,
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      maxRecordAge: props.maxRecordAge,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(failures.queue),
      ...(props.filters !== undefined ? { filters: props.filters } : {}),
    }),
  );
  return { function: fn, failures };
}
