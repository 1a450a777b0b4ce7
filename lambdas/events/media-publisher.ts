/**
 * Metadata table stream (media items) -> the served prefix follows each media's state
 * (lambdas/transcoder/publisher.ts).
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { bucketName, dynamo, tables } from '../platform/clients';
import { s3 } from '../platform/s3-client';
import { createPublisherHandler } from '../transcoder/publisher';

const publish = createPublisherHandler({
  dynamo,
  s3,
  get bucket() {
    return bucketName();
  },
  tables,
});

export async function handler(event: DynamoDBStreamEvent) {
  return publish(event);
}
