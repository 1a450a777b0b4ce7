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
import { LIMITS } from '../../app/model';
import { logger } from '../platform/logger';
import { nowMs } from '../core/ports';
import {
  deleteUnattached,
  markExpired,
  mediaInIndexBefore,
  type MediaFailure,
} from '../core/media/store';
import { abortMultipartUpload } from '../core/media/store-uploads';
import { markFailed, type StateDeps } from './state';
import { deleteMediaObjects } from './storage';

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

export async function sweepMedia(deps: SweeperDeps, options: SweepOptions = {}) {
  const now = nowMs(deps);
  const stuckCutoff = new Date(now - (options.stuckAfterSeconds ?? 900) * 1000).toISOString();
  const unattachedCutoff = new Date(
    now - (options.unattachedAfterSeconds ?? LIMITS.unattachedMediaTtlSeconds) * 1000,
  ).toISOString();

  let timedOut = 0;
  for await (const { mediaId, sortKey } of mediaInIndexBefore(deps, 'processing', stuckCutoff)) {
    const failure = {
      code: 'processing_timeout',
      message: 'Processing did not finish in time. Try uploading the file again.',
    };
    // Only if no retry has re-claimed it since the index was read.
    if (await markFailed(deps, mediaId, failure, { onlyIfStartedAt: sortKey })) timedOut += 1;
  }

  let removed = 0;
  for await (const { mediaId } of mediaInIndexBefore(deps, 'unattached', unattachedCutoff)) {
    if (await removeUnattached(deps, mediaId)) removed += 1;
  }
  const result: SweepResult = { timedOut, removed };
  logger.info('media sweep done', { ...result });
  return result;
}

/** What media removed for never being attached ends as, until its record goes. */
const EXPIRED: MediaFailure = {
  code: 'expired',
  message: 'The media was not attached to a tweet in time and was removed.',
};

async function removeUnattached(deps: SweeperDeps, mediaId: string): Promise<boolean> {
  const record = await markExpired(deps, mediaId, EXPIRED, nowMs(deps));
  if (record === undefined) return false; // attached meanwhile, or removed already
  if (record.upload_id !== undefined && record.upload_completed_at === undefined) {
    await abortMultipartUpload(deps.s3, deps.bucket, record.upload_key, record.upload_id);
  }
  await deleteMediaObjects(deps.s3, deps.bucket, mediaId);
  return deleteUnattached(deps, mediaId);
}
