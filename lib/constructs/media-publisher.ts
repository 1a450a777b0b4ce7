import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { StreamConsumerSpec } from '../../app/model';
import type { ChirpFunction, ChirpResources } from './chirp-function';
import type { FailureQueue } from './failure-queue';
import { addStreamConsumer } from './stream-consumer';

export interface MediaPublisherProps {
  /** The app model's media publisher. */
  readonly spec: StreamConsumerSpec & { readonly streamPartitionKeyPrefix: string };
  readonly resources: ChirpResources;
  /** The metadata table, whose stream carries the media records' changes. */
  readonly table: dynamodb.ITableV2;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * What the CDN serves follows the media records: the metadata table's stream, filtered to media
 * items (pk MEDIA#) so follows, idempotency and quota writes never invoke it, drives the media
 * publisher (lambdas/transcoder/publisher.ts). Batches are small and unwindowed: a tweet's media is
 * shown processing until it is published, so latency matters more than batching. Failures are
 * outages (S3, DynamoDB); records are retried in order until 6 hours old, then go to a queue.
 */
export class MediaPublisher extends Construct {
  public readonly function: ChirpFunction;
  public readonly failures: FailureQueue;

  constructor(scope: Construct, id: string, props: MediaPublisherProps) {
    super(scope, id);
    const consumer = addStreamConsumer(this, {
      spec: props.spec,
      resources: props.resources,
      table: props.table,
      failurePurpose: 'media record changes the publisher could not apply to the served prefix',
      maxRecordAge: Duration.hours(6),
      filters: [
        lambda.FilterCriteria.filter({
          dynamodb: {
            Keys: { pk: { S: lambda.FilterRule.beginsWith(props.spec.streamPartitionKeyPrefix) } },
          },
        }),
      ],
      projectRoot: props.projectRoot,
    });
    this.function = consumer.function;
    this.failures = consumer.failures;
  }
}
