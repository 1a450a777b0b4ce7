/**
 * Tweets: create (one transaction with its media and idempotency record), read (read-through
 * cache), delete (own tweets only), and a user's complete history paged through DynamoDB.
 */
import { createHash } from 'node:crypto';
import { LIMITS, METRICS } from '../../../app/model';
import { badRequest, invalidRequest, unprocessable } from '../errors';
import { logger } from '../../platform/logger';
import { countMetric } from '../../platform/metrics';
import { nowMs, type Deps } from '../ports';
import {
  cancellationReasons,
  conflicted,
  done,
  retryTransaction,
  type CancellationReason,
} from '../../platform/dynamo';
import { isMediaId, newTweetId, parseTweetId, tweetTime } from '../ids';
import { loadAuthors, profileHasHandle } from '../users/store';
import { userNotFound } from '../users/users';
import { detachFromTweet, loadMedia, type MediaRecord } from '../media/store';
import type { TweetRecord } from '../records';
import {
  cacheMissingTweet,
  cacheNewTweet,
  deleteTweetRecord,
  fillCachedTweets,
  hydrateTweets,
  isNegativeEntry,
  readCachedTweet,
  readIdempotencyRecord,
  readTweet,
  readUserTweets,
  renderTweet,
  renderTweets,
  tombstoneCachedTweet,
  tweetFill,
  writeNewTweet,
  type TweetJson,
  type TweetPage,
} from './store';
import { removeFromTimeline } from '../timelines/store';
import { decodeCursor, encodeCursor, tweetNotFound, userText } from '../validation';

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

export interface CreateTweetInput {
  readonly text: string;
  readonly media_ids: readonly string[];
}

/** Validates the POST /v1/tweets body: shape, text rules and media id list, before any I/O. */
export function parseCreateTweet(body: Record<string, unknown>): CreateTweetInput {
  if (typeof body.text !== 'string') throw invalidRequest('text must be a string');
  const text = userText(body.text, 'text', LIMITS.tweetTextMaxCodePoints, 'text_too_long');
  const rawIds = body.media_ids;
  let mediaIds: string[] = [];
  if (rawIds !== undefined && rawIds !== null) {
    if (!Array.isArray(rawIds)) throw invalidRequest('media_ids must be an array of media ids');
    if (rawIds.length > LIMITS.maxMediaPerTweet) {
      throw badRequest('too_many_media', `A tweet has at most ${LIMITS.maxMediaPerTweet} media`);
    }
    if (!rawIds.every(isMediaId)) throw invalidRequest('media_ids must hold media ids');
    mediaIds = rawIds;
    if (new Set(mediaIds).size !== mediaIds.length) {
      throw invalidRequest('media_ids must not repeat an id');
    }
  }
  if (text.length === 0 && mediaIds.length === 0) {
    throw invalidRequest('text may be empty only when media is attached');
  }
  return { text, media_ids: mediaIds };
}

/** The Idempotency-Key header: 1..128 printable ASCII characters, or absent. */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < 1 || raw.length > LIMITS.idempotencyKeyMaxChars || !/^[\x20-\x7E]+$/.test(raw)) {
    throw invalidRequest(
      `Idempotency-Key must be 1 to ${LIMITS.idempotencyKeyMaxChars} printable ASCII characters`,
    );
  }
  return raw;
}

export interface CreateTweetResult {
  /** 201 for a new tweet, 200 for an idempotent replay. */
  readonly status: 201 | 200;
  readonly tweet: TweetJson;
}

function requestHash(input: CreateTweetInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.text, input.media_ids]))
    .digest('base64url');
}

/**
 * Creates a tweet. Media rules are checked against a consistent read first (clear 4xx before any
 * write), then enforced again as conditions of the one transaction that puts the tweet, attaches
 * the media and records the idempotency key, so concurrent requests cannot both win.
 */
export async function createTweet(
  deps: Deps,
  userId: string,
  input: CreateTweetInput,
  idempotencyKey?: string,
): Promise<CreateTweetResult> {
  const hash = requestHash(input);
  const replay = async () => {
    if (idempotencyKey === undefined) return undefined;
    const replayed = await replayIdempotent(deps, userId, idempotencyKey, hash);
    if (replayed !== undefined) countMetric(METRICS.names.idempotentReplay);
    return replayed;
  };

  const earlier = await replay();
  if (earlier !== undefined) return earlier;

  const [media, authors] = await Promise.all([
    loadMedia(deps, input.media_ids),
    loadAuthors(deps, [userId]),
  ]);
  try {
    checkMedia(userId, input.media_ids, media);
  } catch (error) {
    // A concurrent identical request may have attached the media a moment ago.
    const replayed = await replay();
    if (replayed !== undefined) return replayed;
    throw error;
  }

  return retryTransaction<CreateTweetResult>(async () => {
    const now = nowMs(deps);
    const tweetId = newTweetId(userId, now);
    const record: TweetRecord = {
      user_id: userId,
      tweet_id: tweetId,
      text: input.text,
      created_at: new Date(tweetTime(tweetId)).toISOString(),
      media_ids: [...input.media_ids],
    };
    try {
      await writeNewTweet(deps, record, now, hash, idempotencyKey);
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons === undefined) throw error;
      const replayed = await replay();
      if (replayed !== undefined) return done(replayed);
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return conflicted(error);
      throw mediaCancellationError(userId, input.media_ids, reasons) ?? error;
    }
    const attached = new Map<string, MediaRecord>();
    for (const [id, value] of media) attached.set(id, { ...value, tweet_id: tweetId });
    const fill = tweetFill(renderTweet(record, attached, deps.cdnBaseUrl, authors));
    await cacheNewTweet(deps.cache, fill);
    return done({ status: 201, tweet: fill.json });
  });
}

/** The first media rule a set of media records breaks, as the API's error. */
function checkMedia(
  userId: string,
  mediaIds: readonly string[],
  media: ReadonlyMap<string, MediaRecord>,
): void {
  const records: MediaRecord[] = [];
  for (const id of mediaIds) {
    const record = media.get(id);
    if (record === undefined || record.owner_id !== userId || record.detached_at !== undefined) {
      throw unprocessable('media_not_found', `Media ${id} does not exist`);
    }
    records.push(record);
  }
  const single = records.find(
    (record) => record.content_type === 'image/gif' || record.content_type.startsWith('video/'),
  );
  if (single !== undefined && records.length > 1) {
    throw badRequest('too_many_media', 'A GIF or video must be the only media of its tweet');
  }
  for (const record of records) {
    if (record.status === 'failed') {
      throw unprocessable('media_failed', `Media ${record.media_id} failed processing`);
    }
    if (record.avatar_of !== undefined) {
      throw unprocessable('media_already_attached', `Media ${record.media_id} is an avatar`);
    }
    if (record.tweet_id !== undefined) {
      throw unprocessable(
        'media_already_attached',
        `Media ${record.media_id} is attached to another tweet`,
      );
    }
  }
}

/** Maps the media items' cancellation reasons (request order: tweet, media..., idempotency). */
function mediaCancellationError(
  userId: string,
  mediaIds: readonly string[],
  reasons: readonly CancellationReason[],
): Error | undefined {
  for (let i = 0; i < mediaIds.length; i++) {
    const reason = reasons[i + 1];
    const id = mediaIds[i] ?? '';
    if (reason?.Code !== 'ConditionalCheckFailed') continue;
    const old = reason.Item;
    if (old === undefined || old.owner_id?.S !== userId || old.detached_at !== undefined) {
      return unprocessable('media_not_found', `Media ${id} does not exist`);
    }
    if (old.status?.S === 'failed') {
      return unprocessable('media_failed', `Media ${id} failed processing`);
    }
    return unprocessable('media_already_attached', `Media ${id} is attached to another tweet`);
  }
  return undefined;
}

/**
 * Resolves a request whose Idempotency-Key was seen before: same body, the same tweet (200);
 * different body, 422. Undefined when the key is new (or its record expired).
 */
async function replayIdempotent(
  deps: Deps,
  userId: string,
  key: string,
  hash: string,
): Promise<CreateTweetResult | undefined> {
  const stored = await readIdempotencyRecord(deps, userId, key);
  if (stored === undefined || stored.expires_at < Math.floor(nowMs(deps) / 1000)) return undefined;
  if (stored.request_hash !== hash) {
    throw unprocessable(
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request body',
    );
  }
  const tweet = (await hydrateTweets(deps, [stored.tweet_id])).get(stored.tweet_id);
  // The tweet was created, then deleted: the key still never makes a second one.
  if (tweet === null || tweet === undefined) throw tweetNotFound();
  return { status: 200, tweet };
}

// ---------------------------------------------------------------------------------------------
// Read
// ---------------------------------------------------------------------------------------------

/** The cache's answer for one tweet (see readCachedTweet), read ahead by GET /v1/tweets/{id}. */
export interface PeekedTweet {
  readonly cached: Awaited<ReturnType<typeof readCachedTweet>>;
}

/**
 * The tweet's cache entry alone, writing nothing: sent with the rate limiter in one tick, then
 * handed to getTweet. An id that cannot exist reads nothing (getTweet answers 404 for it).
 */
export async function peekCachedTweet(deps: Deps, tweetId: string): Promise<PeekedTweet> {
  return {
    cached: parseTweetId(tweetId) === undefined ? null : await readCachedTweet(deps.cache, tweetId),
  };
}

/**
 * GET /v1/tweets/{id}: the cached JSON on a hit; on a miss one strongly consistent GetItem plus the
 * media, cached; missing ids are cached negatively. `peeked`: the cache's answer when the caller
 * read it already (peekCachedTweet).
 */
export async function getTweet(
  deps: Deps,
  tweetId: string,
  peeked?: PeekedTweet,
): Promise<TweetJson> {
  if (parseTweetId(tweetId) === undefined) throw tweetNotFound();
  const cached = peeked !== undefined ? peeked.cached : await readCachedTweet(deps.cache, tweetId);
  const hit = cached !== undefined && cached !== null;
  countMetric(hit ? METRICS.names.cacheHit : METRICS.names.cacheMiss);
  if (hit) {
    if (isNegativeEntry(cached)) throw tweetNotFound();
    return cached;
  }
  const record = await readTweet(deps, tweetId);
  if (record === undefined) {
    await cacheMissingTweet(deps.cache, tweetId);
    throw tweetNotFound();
  }
  const [tweet] = await renderTweets(deps, [record]);
  if (tweet === undefined) throw tweetNotFound();
  const fill = tweetFill(tweet);
  await fillCachedTweets(deps.cache, 'fill tweet', [fill]);
  return fill.json;
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

/**
 * Deletes the caller's own tweet. Someone else's tweet is indistinguishable from a missing one.
 * Its media records are detached and handed to the media sweeper (unattached index + TTL), and
 * can never be attached again. The fanout's REMOVE cleans followers' timelines; the author's
 * own timeline and the tweet cache are cleaned here, at once.
 */
export async function deleteTweet(deps: Deps, userId: string, tweetId: string): Promise<void> {
  const key = parseTweetId(tweetId);
  if (key === undefined || key.user_id !== userId) throw tweetNotFound();
  // Read first: the media ids are needed even if the delete below turns out to be an SDK retry
  // of an attempt DynamoDB already applied (its condition then fails on our own delete).
  const record = await readTweet(deps, tweetId);
  if (record === undefined) throw tweetNotFound();
  // False when gone already: our own retried attempt, or a concurrent delete by the same user.
  await deleteTweetRecord(deps, tweetId);
  await Promise.all([
    tombstoneCachedTweet(deps.cache, tweetId),
    removeFromTimeline(deps, userId, [tweetId]),
    detachMedia(deps, tweetId, record.media_ids ?? []),
  ]);
}

async function detachMedia(deps: Deps, tweetId: string, mediaIds: readonly string[]) {
  const now = nowMs(deps);
  await Promise.all(
    mediaIds.map(async (mediaId) => {
      if (!(await detachFromTweet(deps, { mediaId, tweetId }, now))) {
        // Already detached, or already swept: nothing left to do.
        logger.debug('media already detached', { mediaId, tweetId });
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// A user's tweets
// ---------------------------------------------------------------------------------------------

export type { TweetPage } from './store';

/** Serialises a page without re-parsing the cached tweet JSON. */
export function pageJson(page: TweetPage): string {
  return `{"tweets":[${page.tweets.join(',')}],"next_cursor":${JSON.stringify(page.next_cursor)}}`;
}

const USER_CURSOR_VERSION = 'u1';

/** A user-tweets cursor: the last tweet id served, which must belong to that user. */
function parseUserCursor(raw: string | undefined, userId: string): string | undefined {
  if (raw === undefined) return undefined;
  const [version, tweetId] = decodeCursor(raw, 2);
  const key = tweetId === undefined ? undefined : parseTweetId(tweetId);
  if (version !== USER_CURSOR_VERSION || key === undefined || key.user_id !== userId) {
    throw invalidRequest('cursor is not valid');
  }
  return key.tweet_id;
}

/**
 * GET /v1/users/{id}/tweets: the complete history, newest first, one Query per page. The cursor
 * is bound to the user, so it can only ever page through that user's partition.
 */
export async function listUserTweets(
  deps: Deps,
  userId: string,
  options: { limit: number; cursor?: string },
): Promise<TweetPage> {
  const before = parseUserCursor(options.cursor, userId);
  const items = await readUserTweets(deps, userId, before, options.limit + 1);
  // A user with tweets has called the API, so only an empty page costs a lookup.
  if (items.length === 0 && !(await profileHasHandle(deps, userId))) throw userNotFound();
  const page = items.slice(0, options.limit);
  const known = new Map(page.map((record) => [record.tweet_id, record]));
  const hydrated = await hydrateTweets(deps, [...known.keys()], known);
  const last = page[page.length - 1];
  return {
    tweets: page.flatMap((record) => hydrated.get(record.tweet_id) ?? []),
    next_cursor:
      items.length > options.limit && last !== undefined
        ? encodeCursor([USER_CURSOR_VERSION, last.tweet_id])
        : null,
  };
}
