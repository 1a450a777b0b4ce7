/**
 * The media record's state machine, in conditional writes only:
 *
 *   pending_upload ──claim──> processing ──> ready
 *                                  │  ^  └──> failed
 *                                  └──┘ re-claim (a retry of a run that died)
 *
 * ready and failed are final: no write here ever leaves them. Media detached by its tweet's
 * delete (detached_at) is never claimed nor made ready: it ends failed/tweet_deleted, for the
 * sweeper to remove, so a delete can never be followed by a late publish. A claim sets the sparse gsi1 keys
 * (PROCESSING / started_at) so the sweeper can find runs that died; ready and failed remove them.
 * Every change to media attached to a tweet invalidates that tweet's cache entry.
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
import type { DocumentStore } from '../../platform/document-store';
import { METADATA_KEYS } from '../../../app/model';
import type { CacheClient } from '../../platform/clients';
import { isConditionalCheckFailed } from '../../platform/dynamo';
import type { MediaFailure, MediaRecord, MediaVariant } from '../records';
import { invalidateTweet } from '../tweets/cache';
import { MAX_PROCESSING_ATTEMPTS, PROCESSING_LEASE_SECONDS } from '../../transcoder/settings';

/** The record as the transcoder sees it, with its own bookkeeping attribute. */
export interface ProcessingRecord extends MediaRecord {
  /** Claims so far: a run that keeps dying (out of memory, killed) is failed, not retried forever. */
  processing_attempts?: number;
  /** The invocation (Lambda request id) holding the current claim; removed when it is released. */
  claim_id?: string;
  /** ISO time after which the claim's run is certainly over (claim + the transcoder's timeout). */
  lease_until?: string;
}

export interface StateDeps {
  readonly dynamo: DocumentStore;
  readonly metadataTable: string;
  /** Cache only: errors are ignored (the API's invalidateTweet logs and swallows them). */
  readonly redis?: CacheClient | null;
  readonly now: () => Date;
}

export async function getMedia(
  deps: StateDeps,
  mediaId: string,
): Promise<ProcessingRecord | undefined> {
  const { Item } = await deps.dynamo.get({
    TableName: deps.metadataTable,
    Key: METADATA_KEYS.media(mediaId),
    ConsistentRead: true,
  });
  return Item as ProcessingRecord | undefined;
}

/** Drops the cached tweet so readers see the new media state. Redis failures are harmless. */
export async function invalidateTweetOf(
  deps: StateDeps,
  record: Pick<MediaRecord, 'tweet_id'>,
): Promise<void> {
  if (!record.tweet_id || !deps.redis) return;
  await invalidateTweet(deps.redis, record.tweet_id).catch(() => undefined);
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
  const now = deps.now();
  const nowIso = now.toISOString();
  try {
    const { Attributes } = await deps.dynamo.update({
      TableName: deps.metadataTable,
      Key: METADATA_KEYS.media(mediaId),
      UpdateExpression:
        'SET #status = :processing, updated_at = :now, gsi1pk = :pk, gsi1sk = :now, ' +
        'claim_id = :me, lease_until = :leaseUntil, ' +
        'processing_attempts = if_not_exists(processing_attempts, :zero) + :one',
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(detached_at) AND ' +
        '(#status = :pending OR (#status = :processing AND (claim_id = :me OR ' +
        'attribute_not_exists(claim_id) OR attribute_not_exists(lease_until) OR ' +
        'lease_until <= :now))) AND ' +
        '(attribute_not_exists(processing_attempts) OR processing_attempts < :max)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':processing': 'processing',
        ':pending': 'pending_upload',
        ':now': nowIso,
        ':me': invocationId,
        ':leaseUntil': new Date(now.getTime() + PROCESSING_LEASE_SECONDS * 1000).toISOString(),
        ':pk': METADATA_KEYS.processingIndex.pk,
        ':zero': 0,
        ':one': 1,
        ':max': MAX_PROCESSING_ATTEMPTS,
      },
      ReturnValues: 'ALL_NEW',
    });
    const record = Attributes as ProcessingRecord;
    await invalidateTweetOf(deps, record);
    return { outcome: 'claimed', record };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const record = await getMedia(deps, mediaId);
    if (record?.status !== 'processing' || record.detached_at !== undefined) {
      return { outcome: 'refused', record };
    }
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
  try {
    await deps.dynamo.update({
      TableName: deps.metadataTable,
      Key: METADATA_KEYS.media(mediaId),
      UpdateExpression:
        'SET processing_attempts = processing_attempts - :one, updated_at = :now ' +
        'REMOVE claim_id, lease_until',
      ConditionExpression:
        '#status = :processing AND claim_id = :me AND processing_attempts > :zero',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':processing': 'processing',
        ':me': invocationId,
        ':now': deps.now().toISOString(),
        ':one': 1,
        ':zero': 0,
      },
    });
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

export interface ReadyFields {
  readonly width: number;
  readonly height: number;
  readonly duration_ms?: number;
  readonly blurhash: string;
  readonly variants: readonly MediaVariant[];
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
  const values: Record<string, unknown> = {
    ':ready': 'ready',
    ':processing': 'processing',
    ':now': deps.now().toISOString(),
    ':width': fields.width,
    ':height': fields.height,
    ':blurhash': fields.blurhash,
    ':variants': fields.variants,
    ':null': null,
  };
  let set =
    'SET #status = :ready, updated_at = :now, width = :width, height = :height, ' +
    'blurhash = :blurhash, variants = :variants, failure = :null';
  if (fields.duration_ms !== undefined) {
    set += ', duration_ms = :duration';
    values[':duration'] = fields.duration_ms;
  }
  return finalUpdate(deps, mediaId, {
    UpdateExpression: `${set} REMOVE gsi1pk, gsi1sk`,
    ConditionExpression: '#status = :processing AND attribute_not_exists(detached_at)',
    ExpressionAttributeValues: values,
  });
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
  const values: Record<string, unknown> = {
    ':failed': 'failed',
    ':processing': 'processing',
    ':pending': 'pending_upload',
    ':now': deps.now().toISOString(),
    ':failure': { code: failure.code, message: failure.message },
  };
  let condition = '(#status = :processing OR #status = :pending)';
  if (options.onlyIfStartedAt !== undefined) {
    condition += ' AND gsi1sk = :startedAt';
    values[':startedAt'] = options.onlyIfStartedAt;
  }
  return finalUpdate(deps, mediaId, {
    UpdateExpression:
      'SET #status = :failed, updated_at = :now, failure = :failure REMOVE gsi1pk, gsi1sk',
    ConditionExpression: condition,
    ExpressionAttributeValues: values,
  });
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

async function finalUpdate(
  deps: StateDeps,
  mediaId: string,
  update: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
  },
): Promise<boolean> {
  try {
    const { Attributes } = await deps.dynamo.update({
      TableName: deps.metadataTable,
      Key: METADATA_KEYS.media(mediaId),
      ...update,
      ExpressionAttributeNames: { '#status': 'status' },
      ReturnValues: 'ALL_NEW',
    });
    await invalidateTweetOf(deps, Attributes as ProcessingRecord);
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
