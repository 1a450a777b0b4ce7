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
 */
import type { DocumentStore } from '../../platform/document-store';
import { METADATA_KEYS } from '../../../app/model';
import type { CacheClient } from '../../platform/clients';
import { isConditionalCheckFailed } from '../../platform/dynamo';
import type { MediaFailure, MediaRecord, MediaVariant } from '../records';
import { invalidateTweet } from '../tweets/cache';
import { MAX_PROCESSING_ATTEMPTS } from '../../transcoder/settings';

/** The record as the transcoder sees it, with its own bookkeeping attribute. */
export interface ProcessingRecord extends MediaRecord {
  /** Claims so far: a run that keeps dying (out of memory, killed) is failed, not retried forever. */
  processing_attempts?: number;
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
  | { readonly claimed: true; readonly record: ProcessingRecord }
  | { readonly claimed: false; readonly record: ProcessingRecord | undefined };

/**
 * pending_upload -> processing, or processing -> processing for a retry of a run that died:
 * outputs are deterministic (content-addressed keys), so a second run can only write what the
 * first would have. Refused once final, or after MAX_PROCESSING_ATTEMPTS claims.
 */
export async function claimForProcessing(deps: StateDeps, mediaId: string): Promise<ClaimResult> {
  const now = deps.now().toISOString();
  try {
    const { Attributes } = await deps.dynamo.update({
      TableName: deps.metadataTable,
      Key: METADATA_KEYS.media(mediaId),
      UpdateExpression:
        'SET #status = :processing, updated_at = :now, gsi1pk = :pk, gsi1sk = :now, ' +
        'processing_attempts = if_not_exists(processing_attempts, :zero) + :one',
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(detached_at) AND ' +
        '(#status = :pending OR #status = :processing) AND ' +
        '(attribute_not_exists(processing_attempts) OR processing_attempts < :max)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':processing': 'processing',
        ':pending': 'pending_upload',
        ':now': now,
        ':pk': METADATA_KEYS.processingIndex.pk,
        ':zero': 0,
        ':one': 1,
        ':max': MAX_PROCESSING_ATTEMPTS,
      },
      ReturnValues: 'ALL_NEW',
    });
    const record = Attributes as ProcessingRecord;
    await invalidateTweetOf(deps, record);
    return { claimed: true, record };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    return { claimed: false, record: await getMedia(deps, mediaId) };
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
