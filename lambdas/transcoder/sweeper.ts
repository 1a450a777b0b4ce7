/**
 * The media sweeper's two jobs, each one Query on a sparse index:
 * - media in processing whose last claim is older than `stuckAfterSeconds` (its run died and its
 *   retries are spent: the event is in the on-failure destination) -> failed/processing_timeout.
 *   This, not the transcoder, is what guarantees nothing stays in processing;
 * - media never attached within LIMITS.unattachedMediaTtlSeconds -> objects and record removed.
 *   Removal is two-phase so an attach racing with it cannot win: first a conditional write
 *   (still unattached) marks it failed/`expired`, which the API refuses to attach; then the
 *   objects go (and an upload in parts never completed is aborted, freeing its parts); then the
 *   record (conditional again). A crash in between leaves the record in gsi2, so the next sweep
 *   finishes the job.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import { isConditionalCheckFailed } from '../platform/dynamo';
import { logger } from '../platform/logger';
import { markFailed, type StateDeps } from '../core/media/processing';
import { deleteMediaObjects } from './storage';
import { abortMultipartUpload } from '../core/media/store-uploads';
import type { MediaRecord } from '../core/records';

export interface SweeperDeps extends StateDeps {
  readonly s3: S3Client;
  readonly bucket: string;
}

export interface SweepOptions {
  /**
   * A claim older than this means the run and its retries are over: the transcoder's timeout
   * (300 s) plus Lambda's retry delays (1 then 2 min), with margin. @default 900
   */
  readonly stuckAfterSeconds?: number;
  /** @default LIMITS.unattachedMediaTtlSeconds */
  readonly unattachedAfterSeconds?: number;
}

export interface SweepResult {
  readonly timedOut: number;
  readonly removed: number;
}

const MEDIA_PK = /^MEDIA#(.+)$/;

async function* olderThan(
  deps: SweeperDeps,
  index: { readonly name: string; readonly pk: string },
  cutoff: string,
) {
  const n = index.name;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.dynamo.query({
      TableName: deps.metadataTable,
      IndexName: n,
      KeyConditionExpression: `${n}pk = :pk AND ${n}sk < :cutoff`,
      ExpressionAttributeValues: { ':pk': index.pk, ':cutoff': cutoff },
      ExclusiveStartKey: startKey,
    });
    for (const item of page.Items ?? []) {
      const mediaId = MEDIA_PK.exec(String(item.pk))?.[1];
      if (mediaId) yield { mediaId, sortKey: String(item[`${n}sk`]) };
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

export async function sweepMedia(deps: SweeperDeps, options: SweepOptions = {}) {
  const now = deps.now().getTime();
  const stuckCutoff = new Date(now - (options.stuckAfterSeconds ?? 900) * 1000).toISOString();
  const unattachedCutoff = new Date(
    now - (options.unattachedAfterSeconds ?? LIMITS.unattachedMediaTtlSeconds) * 1000,
  ).toISOString();

  let timedOut = 0;
  for await (const { mediaId, sortKey } of olderThan(
    deps,
    METADATA_KEYS.processingIndex,
    stuckCutoff,
  )) {
    const failure = {
      code: 'processing_timeout',
      message: 'Processing did not finish in time. Try uploading the file again.',
    };
    // Only if no retry has re-claimed it since the index was read.
    if (await markFailed(deps, mediaId, failure, { onlyIfStartedAt: sortKey })) timedOut += 1;
  }

  let removed = 0;
  for await (const { mediaId } of olderThan(
    deps,
    METADATA_KEYS.unattachedIndex,
    unattachedCutoff,
  )) {
    if (await removeUnattached(deps, mediaId)) removed += 1;
  }
  const result: SweepResult = { timedOut, removed };
  logger.info('media sweep done', { ...result });
  return result;
}

const stillUnattached = 'attribute_not_exists(tweet_id) AND gsi2pk = :unattached';

async function removeUnattached(deps: SweeperDeps, mediaId: string): Promise<boolean> {
  const key = METADATA_KEYS.media(mediaId);
  const values = { ':unattached': METADATA_KEYS.unattachedIndex.pk };
  try {
    const marked = await deps.dynamo.update({
      TableName: deps.metadataTable,
      Key: key,
      ReturnValues: 'ALL_NEW',
      UpdateExpression:
        'SET #status = :failed, failure = :failure, updated_at = :now REMOVE gsi1pk, gsi1sk',
      ConditionExpression: stillUnattached,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ...values,
        ':failed': 'failed',
        ':now': deps.now().toISOString(),
        ':failure': {
          code: 'expired',
          message: 'The media was not attached to a tweet in time and was removed.',
        },
      },
    });
    const record = marked.Attributes as MediaRecord | undefined;
    if (record?.upload_id !== undefined && record.upload_completed_at === undefined) {
      await abortMultipartUpload(deps.s3, deps.bucket, record.upload_key, record.upload_id);
    }
    await deleteMediaObjects(deps.s3, deps.bucket, mediaId);
    await deps.dynamo.delete({
      TableName: deps.metadataTable,
      Key: key,
      ConditionExpression: stillUnattached,
      ExpressionAttributeValues: values,
    });
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
