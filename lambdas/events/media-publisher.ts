/**
 * Metadata table stream (media items) -> the served prefix follows each media's state
 * (lambdas/transcoder/publisher.ts).
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { MEDIA_PUBLISHER_FUNCTION } from '../../app/model';
import { createPublisherHandler } from '../transcoder/publisher';
import { mediaBucketDeps } from '../wiring-s3';

const publish = createPublisherHandler(mediaBucketDeps(MEDIA_PUBLISHER_FUNCTION.id));

export async function handler(event: DynamoDBStreamEvent) {
  return publish(event);
}
