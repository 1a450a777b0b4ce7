/**
 * Metadata table stream (media items) -> the served prefix follows each media's state
 * (lambdas/transcoder/publisher.ts).
 */
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { MEDIA_PUBLISHER_FUNCTION } from '../../app/model';
import { createPublisherHandler } from '../transcoder/publisher';
import { logInvocation } from '../platform/logger';
import { mediaBucketDeps } from '../wiring-s3';

const publish = createPublisherHandler(mediaBucketDeps(MEDIA_PUBLISHER_FUNCTION.id));

export async function handler(event: DynamoDBStreamEvent, context?: Context) {
  logInvocation(context);
  return publish(event);
}
