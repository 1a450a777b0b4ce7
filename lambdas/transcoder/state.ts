/**
 * The media record's state machine as the transcoder and the sweeper drive it; its conditional
 * writes are the media store's (core/media/store.ts):
 *
 *   pending_upload ──claim──> processing ──> ready
 *                                  │  ^  └──> failed
 *                                  └──┘ re-claim (a retry of a run that died)
 *
 * ready and failed are final: no write here ever leaves them. Media detached by its tweet's
 * delete (detached_at) is never claimed nor made ready: it ends failed/tweet_deleted, for the
 * sweeper to remove, so a delete can never be followed by a late publish. A claim sets the sparse gsi1 keys
 * (PROCESSING / started_at) so the sweeper can find runs that died; ready and failed remove them.
 * Every change to media attached to a tweet is reported to `onMediaChanged` (the wiring drops
 * that tweet's cache entry).
 *
 * Claims are leases, and only runs that died count against MAX_PROCESSING_ATTEMPTS:
 * - a claim records the run's invocation (claim_id: Lambda's request id, which Lambda's own
 *   retries of an event keep) and lease_until = claim + the transcoder's timeout, past which no
 *   run of it can still be alive; each claim adds one to processing_attempts;
 * - a delivery may claim (and count) media in processing only when the claim before it is over:
 *   its lease expired, it is the same invocation (Lambda retries only after the attempt ended),
 *   or its run released it;
 * - a delivery that finds another invocation's live lease (a duplicate or late S3 event, or a
 *   redelivery whose dead predecessor's lease has not run out) neither claims nor counts: it
 *   processes alongside without writing a claim (outputs are content-addressed and only the first
 *   processing -> ready wins), so it can neither spend the budget nor be stranded by a dead claim;
 * - a run that catches an error (an outage: it throws for Lambda to retry) did not die: it
 *   releases its claim and gives its attempt back (best effort: with DynamoDB down the release
 *   fails too, and the attempt stays counted);
 * - a claim that would be the (MAX+1)th of runs that died is refused: processUpload then fails the
 *   media `processing_error`.
 */
import { nowMs } from '../core/ports';
import {
  claimMedia,
  findMedia,
  markMediaFailed,
  markMediaReady,
  releaseMediaClaim,
  type MediaFailure,
  type MediaRecord,
  type MediaStoreDeps,
  type ProcessingRecord,
  type ReadyFields,
} from '../core/media/store';
import { MAX_PROCESSING_ATTEMPTS, PROCESSING_LEASE_SECONDS } from './settings';

export interface StateDeps extends MediaStoreDeps {
  /** Clock, in epoch ms; tests may pin it. */
  readonly now?: () => number;
  /**
   * Told the tweet id after every change to media attached to a tweet, so readers see the new
   * state (the wiring passes the tweet cache's invalidation). Its failures are ignored.
   */
  readonly onMediaChanged?: (tweetId: string) => Promise<void>;
}

/** Reports a change of media attached to a tweet. A failing hook is harmless (cache only). */
async function mediaChanged(
  deps: StateDeps,
  record: Pick<MediaRecord, 'tweet_id'> | undefined,
): Promise<void> {
  if (!record?.tweet_id || !deps.onMediaChanged) return;
  await deps.onMediaChanged(record.tweet_id).catch(() => undefined);
}

export type ClaimResult =
  /** Claimed, and counted as one of MAX_PROCESSING_ATTEMPTS. */
  | { readonly outcome: 'claimed'; readonly record: ProcessingRecord }
  /** Another invocation holds a live lease: nothing written, nothing counted. */
  | { readonly outcome: 'in_progress'; readonly record: ProcessingRecord }
  /** MAX_PROCESSING_ATTEMPTS runs claimed it and died: the caller fails it. */
  | { readonly outcome: 'attempts_spent'; readonly record: ProcessingRecord }
  /** Unknown, final or detached: nothing to do here. */
  | { readonly outcome: 'refused'; readonly record: ProcessingRecord | undefined };

/**
 * pending_upload -> processing, or processing -> processing when the claim before is over (a
 * retry of a run that died): outputs are deterministic (content-addressed keys), so a second run
 * can only write what the first would have. See the header for what counts as an attempt.
 */
export async function claimForProcessing(
  deps: StateDeps,
  mediaId: string,
  invocationId: string,
): Promise<ClaimResult> {
  const now = nowMs(deps);
  const claimed = await claimMedia(
    deps,
    mediaId,
    {
      invocationId,
      leaseSeconds: PROCESSING_LEASE_SECONDS,
      maxAttempts: MAX_PROCESSING_ATTEMPTS,
    },
    now,
  );
  if (claimed !== undefined) {
    await mediaChanged(deps, claimed);
    return { outcome: 'claimed', record: claimed };
  }
  const record = await findMedia(deps, mediaId);
  if (record?.status !== 'processing' || record.detached_at !== undefined) {
    return { outcome: 'refused', record };
  }
  const nowIso = new Date(now).toISOString();
  const claimOver =
    record.claim_id === undefined ||
    record.claim_id === invocationId ||
    record.lease_until === undefined ||
    record.lease_until <= nowIso;
  if (claimOver && (record.processing_attempts ?? 0) >= MAX_PROCESSING_ATTEMPTS) {
    return { outcome: 'attempts_spent', record };
  }
  // Someone else's live lease (or it changed since the write): process alongside, uncounted.
  return { outcome: 'in_progress', record };
}

/**
 * Ends this invocation's claim without counting it: its run caught an error and is over, it did
 * not die. The next delivery (Lambda's retry, a redrive) claims at once. Returns whether it did.
 */
export async function releaseClaim(
  deps: StateDeps,
  mediaId: string,
  invocationId: string,
): Promise<boolean> {
  return releaseMediaClaim(deps, mediaId, invocationId, nowMs(deps));
}

/** What a media detached by its tweet's delete ends as. */
export const TWEET_DELETED: MediaFailure = {
  code: 'tweet_deleted',
  message: 'The tweet this media was attached to was deleted.',
};

/**
 * processing -> ready. Returns false when another run already finished it, or its tweet was
 * deleted meanwhile (then see failIfDetached).
 */
export async function markReady(
  deps: StateDeps,
  mediaId: string,
  fields: ReadyFields,
): Promise<boolean> {
  const record = await markMediaReady(deps, mediaId, fields, nowMs(deps));
  await mediaChanged(deps, record);
  return record !== undefined;
}

/**
 * pending_upload|processing -> failed. With `onlyIfStartedAt`, only if no run has claimed the
 * media since (the sweeper's guard against failing a live retry).
 */
export async function markFailed(
  deps: StateDeps,
  mediaId: string,
  failure: MediaFailure,
  options: { readonly onlyIfStartedAt?: string } = {},
): Promise<boolean> {
  const record = await markMediaFailed(deps, mediaId, failure, nowMs(deps), options);
  await mediaChanged(deps, record);
  return record !== undefined;
}

/**
 * A media that is not final and was detached by a tweet delete ends failed/tweet_deleted.
 * Returns whether this call made it so.
 */
export async function failIfDetached(
  deps: StateDeps,
  record: ProcessingRecord | undefined,
): Promise<boolean> {
  if (record?.detached_at === undefined) return false;
  if (record.status !== 'pending_upload' && record.status !== 'processing') return false;
  return markFailed(deps, record.media_id, TWEET_DELETED);
}
