/**
 * The media publisher: what the CDN serves follows the media records, through the metadata
 * table's stream (media items only). A media is served while it is ready AND attached, to a tweet
 * (tweet_id) or as a profile's avatar (avatar_of):
 * - it becomes served (ready then attached, or attached then ready, in either order): its staged
 *   variants are copied to the served prefix, then the record is marked `published_at`, which the
 *   API waits for before it shows the media as ready to anyone but its owner's unattached view;
 * - it stops being served (its tweet was deleted, or the avatar replaced: detached): the served
 *   copies are deleted at once; edges that cached them keep them at most MEDIA_SERVING.cdnMaxTtlSeconds.
 * Stream records of one item arrive in order, so a publish can never overtake the detach that
 * follows it. Copies and deletes are idempotent, so a retried batch only repeats them.
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { MEDIA_PUBLISHER_FUNCTION } from '../../app/model';
import { nowMs } from '../core/ports';
import { markPublished, type MediaRecord, type MediaStoreDeps } from '../core/media/store';
import { logger } from '../platform/logger';
import { publishVariants, withdrawVariants } from './storage';

export interface PublisherDeps extends MediaStoreDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly now?: () => number;
}

type Image = Partial<MediaRecord> | undefined;

/** Whether a record's variants belong on the CDN: ready and attached (tweet or avatar). */
export const isServed = (record: Image): boolean =>
  record !== undefined &&
  (record.tweet_id !== undefined || record.avatar_of !== undefined) &&
  record.status === 'ready' &&
  (record.variants?.length ?? 0) > 0;

const servedKeys = (record: Image) => (record?.variants ?? []).map((variant) => variant.key);

const image = (value: Record<string, unknown> | undefined): Image =>
  value === undefined
    ? undefined
    : (unmarshall(value as Record<string, SdkAttributeValue>) as Partial<MediaRecord>);

/** Applies one stream record of the metadata table. Throws on an S3 or DynamoDB outage. */
export async function applyMediaChange(deps: PublisherDeps, record: DynamoDBRecord): Promise<void> {
  const pk = record.dynamodb?.Keys?.pk?.S ?? '';
  if (!pk.startsWith(MEDIA_PUBLISHER_FUNCTION.streamPartitionKeyPrefix)) return; // filtered out before
  const before = image(record.dynamodb?.OldImage);
  const after = image(record.dynamodb?.NewImage);
  const wasServed = isServed(before);
  const served = isServed(after);
  if (served && !wasServed && after) {
    if (!(await publishVariants(deps.s3, deps.bucket, servedKeys(after)))) {
      // Retrying cannot bring them back; the media stays shown as processing.
      logger.error('staged variants missing: media not published', { mediaId: after.media_id });
      return;
    }
    // Still attached, or its detach's own stream record follows and withdraws them (a detached
    // media is never attached again).
    await markPublished(deps, String(after.media_id), nowMs(deps));
    logger.info('media published', {
      mediaId: after.media_id,
      tweetId: after.tweet_id,
      avatarOf: after.avatar_of,
    });
  } else if (wasServed && !served && before) {
    await withdrawVariants(deps.s3, deps.bucket, servedKeys(before));
    logger.info('media withdrawn', {
      mediaId: before.media_id,
      tweetId: before.tweet_id,
      avatarOf: before.avatar_of,
    });
  }
}

/**
 * The stream handler: records in order; on a failure, that record and every later one are
 * reported (ReportBatchItemFailures), so the retry resumes in order.
 */
export function createPublisherHandler(
  deps: PublisherDeps,
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const records = event.Records ?? [];
    for (const [index, record] of records.entries()) {
      try {
        await applyMediaChange(deps, record);
      } catch (error) {
        logger.warn('media publishing failed; the batch will be retried', {
          eventID: record.eventID,
          error: error instanceof Error ? error.message : String(error),
        });
        return {
          batchItemFailures: records.slice(index).map((failed) => ({
            itemIdentifier: failed.dynamodb?.SequenceNumber ?? failed.eventID ?? '',
          })),
        };
      }
    }
    return { batchItemFailures: [] };
  };
}
