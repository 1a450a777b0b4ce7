/**
 * The media item (METADATA_KEYS.media in the metadata table) and its two sparse indexes: the one
 * module that reads or writes it. Every key, update and condition on a media record is here: the
 * upload's record (init, completing an upload in parts), the transcoder's state machine
 * (claim, ready, failed), the publisher's mark, the sweeper's index queries and removal, and the
 * items other aggregates put in their own transactions (a tweet attaching or detaching its media,
 * a profile its avatar). Attribute names are snake_case as in the API.
 *
 * Index keys: gsi1 (PROCESSING / claim time) is set only while processing, so the sweeper finds
 * runs that died; gsi2 (UNATTACHED / created_at) only while unattached, with expires_at, so it
 * finds media nobody attached.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../../app/model';
import type { DocumentStore } from '../../platform/document-store';
import { batchGetAll, conditionalWrite, isConditionalCheckFailed } from '../../platform/dynamo';

export type MediaStatus = 'pending_upload' | 'processing' | 'ready' | 'failed';

export interface MediaVariant {
  /** e.g. large, medium, small, thumb, video, poster */
  readonly name: string;
  /** Object key under the processed prefix; the API turns it into a CDN URL. */
  readonly key: string;
  readonly content_type: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

export interface MediaFailure {
  readonly code: string;
  readonly message: string;
}

/** Item in the metadata table at METADATA_KEYS.media(media_id). */
export interface MediaRecord {
  readonly pk: string;
  readonly sk: string;
  readonly media_id: string;
  readonly owner_id: string;
  status: MediaStatus;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly alt_text: string | null;
  /** uploads/{media_id} */
  readonly upload_key: string;
  /** Set for uploads in parts: S3's multipart upload id and the number of parts. */
  readonly upload_id?: string;
  readonly part_count?: number;
  /** When POST /complete assembled the parts (makes a repeated complete a no-op). */
  upload_completed_at?: string;
  readonly created_at: string;
  updated_at: string;
  /** Set when a tweet attaches it; attached media is public and never expires. */
  tweet_id?: string;
  /** Set while it is this user's avatar (profiles.ts): attached, so never swept. */
  avatar_of?: string;
  /**
   * Set when its tweet was deleted or it stopped being an avatar: the media is no longer
   * attached (tweet_id or avatar_of removed), can never
   * be attached again, and is back in the unattached index for the media sweeper.
   */
  detached_at?: string;
  /** Set by the media publisher once the variants are on the CDN (ready and attached). */
  published_at?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  blurhash?: string;
  variants?: MediaVariant[];
  failure?: MediaFailure | null;
  /** TTL (epoch seconds) while unattached. */
  expires_at?: number;
  /** Sparse GSI keys: gsi1 only while processing, gsi2 only while unattached. */
  gsi1pk?: string;
  gsi1sk?: string;
  gsi2pk?: string;
  gsi2sk?: string;
}

/** The record as the transcoder sees it, with its own bookkeeping attribute. */
export interface ProcessingRecord extends MediaRecord {
  /** Claims so far: a run that keeps dying (out of memory, killed) is failed, not retried forever. */
  processing_attempts?: number;
  /** The invocation (Lambda request id) holding the current claim; removed when it is released. */
  claim_id?: string;
  /** ISO time after which the claim's run is certainly over (claim + the transcoder's timeout). */
  lease_until?: string;
}

/** What the media store needs: the document store and the metadata table's name. */
export interface MediaStoreDeps {
  readonly dynamo: DocumentStore;
  readonly tables: { readonly metadata: string };
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const iso = (ms: number) => new Date(ms).toISOString();

/** The TTL of media that is (again) unattached. */
const unattachedExpiry = (nowMs: number) =>
  Math.floor(nowMs / 1000) + LIMITS.unattachedMediaTtlSeconds;

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/** One media record, strongly consistent; undefined when there is none. */
export async function findMedia(
  deps: MediaStoreDeps,
  mediaId: string,
): Promise<ProcessingRecord | undefined> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.media(mediaId),
    ConsistentRead: true,
  });
  return out.Item as ProcessingRecord | undefined;
}

/** Media records by id (strongly consistent), keyed by media_id; unknown ids are absent. */
export async function loadMedia(
  deps: MediaStoreDeps,
  mediaIds: readonly string[],
): Promise<Map<string, MediaRecord>> {
  const unique = [...new Set(mediaIds)];
  const items =
    unique.length === 0
      ? []
      : await batchGetAll(
          deps.dynamo,
          deps.tables.metadata,
          unique.map((id) => METADATA_KEYS.media(id)),
          { consistent: true },
        );
  const byId = new Map<string, MediaRecord>();
  for (const item of items) {
    const record = item as unknown as MediaRecord;
    byId.set(record.media_id, record);
  }
  return byId;
}

// ---------------------------------------------------------------------------------------------
// Upload
// ---------------------------------------------------------------------------------------------

export interface NewMedia {
  readonly mediaId: string;
  readonly ownerId: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly altText: string | null;
  readonly uploadKey: string;
  /** For an upload in parts: S3's multipart upload id and the number of parts. */
  readonly parts?: { readonly uploadId: string; readonly count: number };
  readonly nowMs: number;
}

/**
 * Writes a new media record: pending_upload, unattached (in gsi2) and expiring. Throws if the id
 * is taken by another record. The SDK retries an attempt that timed out or failed after DynamoDB
 * applied it; the retry then finds our own record, which counts as written.
 */
export async function insertMedia(deps: MediaStoreDeps, media: NewMedia): Promise<MediaRecord> {
  const createdAt = iso(media.nowMs);
  const record: MediaRecord = {
    ...METADATA_KEYS.media(media.mediaId),
    media_id: media.mediaId,
    owner_id: media.ownerId,
    status: 'pending_upload',
    content_type: media.contentType,
    size_bytes: media.sizeBytes,
    alt_text: media.altText,
    upload_key: media.uploadKey,
    ...(media.parts !== undefined
      ? { upload_id: media.parts.uploadId, part_count: media.parts.count }
      : {}),
    created_at: createdAt,
    updated_at: createdAt,
    expires_at: unattachedExpiry(media.nowMs),
    gsi2pk: METADATA_KEYS.unattachedIndex.pk,
    gsi2sk: createdAt,
  };
  try {
    await deps.dynamo.put({
      TableName: deps.tables.metadata,
      Item: record,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const stored = await findMedia(deps, record.media_id);
    const ours = stored?.owner_id === record.owner_id && stored.created_at === record.created_at;
    if (!ours) throw error;
  }
  return record;
}

/** Records that the upload's parts were assembled; the first time counts. */
export async function markUploadCompleted(
  deps: MediaStoreDeps,
  mediaId: string,
  nowMs: number,
): Promise<string> {
  const completedAt = iso(nowMs);
  await deps.dynamo.update({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.media(mediaId),
    UpdateExpression: 'SET upload_completed_at = if_not_exists(upload_completed_at, :now)',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':now': completedAt },
  });
  return completedAt;
}

// ---------------------------------------------------------------------------------------------
// Attaching and detaching (items of other aggregates' writes)
// ---------------------------------------------------------------------------------------------

/**
 * Attaches a media (out of the unattached index, no expiry) if its owner is `ownerId` and it is
 * attachable: not attached to anything, never detached, not failed; and `also`, if given.
 */
function attachUpdate(
  deps: Pick<MediaStoreDeps, 'tables'>,
  mediaId: string,
  attachTo: { readonly attribute: 'tweet_id' | 'avatar_of'; readonly value: string },
  ownerId: string,
  nowMs: number,
  also?: { readonly condition: string; readonly values: Readonly<Record<string, string>> },
) {
  return {
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.media(mediaId),
    UpdateExpression: `SET ${attachTo.attribute} = :attachTo, updated_at = :now REMOVE expires_at, gsi2pk, gsi2sk`,
    ConditionExpression:
      'attribute_exists(pk) AND owner_id = :owner AND attribute_not_exists(tweet_id) AND ' +
      'attribute_not_exists(detached_at) AND attribute_not_exists(avatar_of) AND ' +
      `#status <> :failed${also ? ` AND ${also.condition}` : ''}`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':attachTo': attachTo.value,
      ':now': iso(nowMs),
      ':owner': ownerId,
      ':failed': 'failed',
      ...also?.values,
    },
  };
}

/**
 * The create-tweet transaction's item for one of its media: attaches it to the tweet if the
 * author owns it and it is attachable; on a failed condition the cancellation reason carries the
 * stored record (ALL_OLD), to tell the caller why.
 */
export function attachToTweetItem(
  deps: Pick<MediaStoreDeps, 'tables'>,
  attach: { readonly mediaId: string; readonly tweetId: string; readonly ownerId: string },
  nowMs: number,
): TransactItem {
  return {
    Update: {
      ...attachUpdate(
        deps,
        attach.mediaId,
        { attribute: 'tweet_id', value: attach.tweetId },
        attach.ownerId,
        nowMs,
      ),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The avatar types as expression values (:avatarType0...), for the attach condition. */
const AVATAR_TYPE_VALUES: Readonly<Record<string, string>> = Object.fromEntries(
  LIMITS.avatarMediaTypes.map((type, i) => [`:avatarType${i}`, type]),
);

/**
 * The profile update's item attaching a media as the user's avatar, like a tweet's media, if it
 * is also an avatar type (LIMITS.avatarMediaTypes).
 */
export function attachAvatarItem(
  deps: Pick<MediaStoreDeps, 'tables'>,
  attach: { readonly mediaId: string; readonly userId: string },
  nowMs: number,
): TransactItem {
  return {
    Update: attachUpdate(
      deps,
      attach.mediaId,
      { attribute: 'avatar_of', value: attach.userId },
      attach.userId,
      nowMs,
      {
        condition: `content_type IN (${Object.keys(AVATAR_TYPE_VALUES).join(', ')})`,
        values: AVATAR_TYPE_VALUES,
      },
    ),
  };
}

/**
 * Detaches a media from what it was attached to (if it still is): it can never be attached
 * again, and goes back to the unattached index with a TTL, for the sweeper to remove with its
 * variants.
 */
function detachUpdate(
  deps: Pick<MediaStoreDeps, 'tables'>,
  mediaId: string,
  attachedTo: { readonly attribute: 'tweet_id' | 'avatar_of'; readonly value: string },
  nowMs: number,
) {
  return {
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.media(mediaId),
    UpdateExpression:
      'SET detached_at = :now, updated_at = :now, gsi2pk = :unattached, ' +
      `gsi2sk = created_at, expires_at = :expires REMOVE ${attachedTo.attribute}`,
    ConditionExpression: `${attachedTo.attribute} = :attachedTo`,
    ExpressionAttributeValues: {
      ':now': iso(nowMs),
      ':unattached': METADATA_KEYS.unattachedIndex.pk,
      ':expires': unattachedExpiry(nowMs),
      ':attachedTo': attachedTo.value,
    },
  };
}

/** The profile update's item detaching the user's previous avatar. */
export function detachAvatarItem(
  deps: Pick<MediaStoreDeps, 'tables'>,
  detach: { readonly mediaId: string; readonly userId: string },
  nowMs: number,
): TransactItem {
  return {
    Update: detachUpdate(
      deps,
      detach.mediaId,
      { attribute: 'avatar_of', value: detach.userId },
      nowMs,
    ),
  };
}

/**
 * Detaches a deleted tweet's media. Returns false when it was not attached to that tweet
 * (already detached, or already swept).
 */
export async function detachFromTweet(
  deps: MediaStoreDeps,
  detach: { readonly mediaId: string; readonly tweetId: string },
  nowMs: number,
): Promise<boolean> {
  const detached = await conditionalWrite(
    deps.dynamo.update(
      detachUpdate(deps, detach.mediaId, { attribute: 'tweet_id', value: detach.tweetId }, nowMs),
    ),
  );
  return detached !== undefined;
}

// ---------------------------------------------------------------------------------------------
// The transcoder's state machine (lambdas/transcoder/state.ts says when each applies)
// ---------------------------------------------------------------------------------------------

/** A claim: who makes it, how long its run may live, and how many claims a media may take. */
export interface Claim {
  /** The invocation claiming (Lambda's request id, which its retries of an event keep). */
  readonly invocationId: string;
  readonly leaseSeconds: number;
  readonly maxAttempts: number;
}

/**
 * pending_upload -> processing, or processing -> processing when the claim before is over (its
 * lease ran out, it is this same invocation's, or it was released), unless detached or claimed
 * `maxAttempts` times already: records the claim (claim_id, lease_until), sets the gsi1 keys
 * (PROCESSING / claim time) and counts it. Returns the claimed record, or undefined when refused.
 */
export async function claimMedia(
  deps: MediaStoreDeps,
  mediaId: string,
  claim: Claim,
  nowMs: number,
): Promise<ProcessingRecord | undefined> {
  const claimed = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
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
        ':now': iso(nowMs),
        ':me': claim.invocationId,
        ':leaseUntil': iso(nowMs + claim.leaseSeconds * 1000),
        ':pk': METADATA_KEYS.processingIndex.pk,
        ':zero': 0,
        ':one': 1,
        ':max': claim.maxAttempts,
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return claimed?.Attributes as ProcessingRecord | undefined;
}

/**
 * Ends this invocation's claim without counting it (its run is over and did not die): removes
 * claim_id and lease_until and gives the attempt back. Returns whether it did.
 */
export async function releaseMediaClaim(
  deps: MediaStoreDeps,
  mediaId: string,
  invocationId: string,
  nowMs: number,
): Promise<boolean> {
  const released = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
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
        ':now': iso(nowMs),
        ':one': 1,
        ':zero': 0,
      },
    }),
  );
  return released !== undefined;
}

/** What processing found out about a media, written when it becomes ready. */
export interface ReadyFields {
  readonly width: number;
  readonly height: number;
  readonly duration_ms?: number;
  readonly blurhash: string;
  readonly variants: readonly MediaVariant[];
}

/**
 * processing -> ready, unless detached meanwhile; out of gsi1. Returns the record as it now is,
 * or undefined when refused (another run finished it, or its tweet was deleted).
 */
export async function markMediaReady(
  deps: MediaStoreDeps,
  mediaId: string,
  fields: ReadyFields,
  nowMs: number,
): Promise<ProcessingRecord | undefined> {
  const values: Record<string, unknown> = {
    ':ready': 'ready',
    ':processing': 'processing',
    ':now': iso(nowMs),
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
 * pending_upload|processing -> failed; out of gsi1. With `onlyIfStartedAt`, only if no run has
 * claimed it since that claim time. Returns the record as it now is, or undefined when refused.
 */
export async function markMediaFailed(
  deps: MediaStoreDeps,
  mediaId: string,
  failure: MediaFailure,
  nowMs: number,
  options: { readonly onlyIfStartedAt?: string } = {},
): Promise<ProcessingRecord | undefined> {
  const values: Record<string, unknown> = {
    ':failed': 'failed',
    ':processing': 'processing',
    ':pending': 'pending_upload',
    ':now': iso(nowMs),
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

async function finalUpdate(
  deps: MediaStoreDeps,
  mediaId: string,
  update: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
  },
): Promise<ProcessingRecord | undefined> {
  const updated = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      ...update,
      ExpressionAttributeNames: { '#status': 'status' },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return updated?.Attributes as ProcessingRecord | undefined;
}

// ---------------------------------------------------------------------------------------------
// Publisher and sweeper
// ---------------------------------------------------------------------------------------------

/**
 * Records that the variants are served, if the media is still ready and attached. Returns false
 * when it no longer is (its detach follows on the stream).
 */
export async function markPublished(
  deps: MediaStoreDeps,
  mediaId: string,
  nowMs: number,
): Promise<boolean> {
  const published = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      UpdateExpression: 'SET published_at = :now',
      ConditionExpression:
        '(attribute_exists(tweet_id) OR attribute_exists(avatar_of)) AND ' +
        'attribute_not_exists(detached_at) AND #status = :ready',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': iso(nowMs), ':ready': 'ready' },
    }),
  );
  return published !== undefined;
}

const MEDIA_PK = /^MEDIA#(.+)$/;

const SWEEP_INDEXES = {
  /** Media in processing, by the time of its last claim. */
  processing: METADATA_KEYS.processingIndex,
  /** Media not attached, by its creation time. */
  unattached: METADATA_KEYS.unattachedIndex,
} as const;

/**
 * The media in a sparse index whose sort key (an ISO time) is before `cutoff`, page by page. Each
 * comes with that sort key (for processing: the claim time markFailed's `onlyIfStartedAt` takes).
 */
export async function* mediaInIndexBefore(
  deps: MediaStoreDeps,
  indexName: keyof typeof SWEEP_INDEXES,
  cutoff: string,
): AsyncGenerator<{ readonly mediaId: string; readonly sortKey: string }> {
  const index = SWEEP_INDEXES[indexName];
  const n = index.name;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.dynamo.query({
      TableName: deps.tables.metadata,
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

const STILL_UNATTACHED = 'attribute_not_exists(tweet_id) AND gsi2pk = :unattached';

/**
 * The first phase of removing media never attached: marks it failed/`expired` (which the API
 * refuses to attach) if it is still unattached. Returns the record as it now is, or undefined
 * when it is no longer unattached.
 */
export async function markExpired(
  deps: MediaStoreDeps,
  mediaId: string,
  failure: MediaFailure,
  nowMs: number,
): Promise<MediaRecord | undefined> {
  const marked = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      ReturnValues: 'ALL_NEW',
      UpdateExpression:
        'SET #status = :failed, failure = :failure, updated_at = :now REMOVE gsi1pk, gsi1sk',
      ConditionExpression: STILL_UNATTACHED,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':unattached': METADATA_KEYS.unattachedIndex.pk,
        ':failed': 'failed',
        ':now': iso(nowMs),
        ':failure': { code: failure.code, message: failure.message },
      },
    }),
  );
  return marked?.Attributes as MediaRecord | undefined;
}

/** The last phase: deletes the record if it is still unattached. Returns whether it did. */
export async function deleteUnattached(deps: MediaStoreDeps, mediaId: string): Promise<boolean> {
  const deleted = await conditionalWrite(
    deps.dynamo.delete({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      ConditionExpression: STILL_UNATTACHED,
      ExpressionAttributeValues: { ':unattached': METADATA_KEYS.unattachedIndex.pk },
    }),
  );
  return deleted !== undefined;
}
