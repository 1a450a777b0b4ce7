/**
 * The tweets store: every DynamoDB expression of the tweets table's items and of the idempotency
 * items, and the tweet cache (its keys, TTLs, negative entries and fill/overwrite commands), which
 * holds tweets as the API shows them (tweet + media objects + author): their rendering and the
 * read-through hydration live here with it.
 *
 * `tweet:{id}` holds the hydrated tweet JSON, so a hit is served as stored, without parsing.
 * - All media final (ready/failed) or none: cached for an hour; nothing about it changes except
 *   deletion, which overwrites the entry with a tombstone.
 * - Any media still pending/processing: cached for at most a second, so a media state change
 *   shows within the 2 s promise even if its invalidation races a read-through fill.
 * - Missing ids: a negative entry for 30 s; deleted tweets: a tombstone for 60 s (longer than a
 *   Lambda's timeout, so a fill that read DynamoDB before the delete cannot resurrect it, since
 *   fills only write with NX).
 * Tweet keys have no hash tag, so they spread over the slots; several are read with a batch of
 * GETs, never MGET (CROSSSLOT in cluster mode).
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS, METRICS } from '../../../app/model';
import type { Cache, CacheBatch, CacheSetOptions } from '../cache-port';
import type { Deps } from '../ports';
import { batchGetAll, isConditionalCheckFailed } from '../../platform/dynamo';
import { countMetric } from '../../platform/metrics';
import { parseTweetId, tweetUlidOf } from '../ids';
import { isFinalStatus, renderMedia, type MediaObject } from '../media/render';
import { attachToTweetItem, loadMedia, type MediaRecord } from '../media/store';
import type { TweetRecord } from '../records';
import { lastTweetItem, loadAuthors, type Author, type AuthorObject } from '../users/store';
import { newestFirstQuery } from './store-sources';

type Store = Pick<Deps, 'dynamo' | 'tables'>;

/** A tweet object already serialised as JSON (what the cache holds). */
export type TweetJson = string;

/** A page of tweets as served (user tweets, home timeline). */
export interface TweetPage {
  readonly tweets: TweetJson[];
  readonly next_cursor: string | null;
}

/** Hydrated tweet JSON (tweet object with media), or a short-lived negative entry. */
export const tweetCacheKey = (tweetId: string) => `tweet:${tweetId}`;

export const TWEET_TTL_FINAL_SECONDS = 60 * 60;
export const TWEET_TTL_CHANGING_MS = 1000;
export const TWEET_NEGATIVE_TTL_SECONDS = 30;
export const TWEET_TOMBSTONE_TTL_SECONDS = 60;
/** Any cached value that is not a JSON object is a negative entry. */
export const NEGATIVE_ENTRY = '0';

export function isNegativeEntry(value: string): boolean {
  return value.charCodeAt(0) !== 123; // '{'
}

const SETTLED: CacheSetOptions = { ttl: { seconds: TWEET_TTL_FINAL_SECONDS } };
const SETTLED_FILL: CacheSetOptions = { ...SETTLED, onlyIfAbsent: true };
const CHANGING: CacheSetOptions = { ttl: { ms: TWEET_TTL_CHANGING_MS } };
const CHANGING_FILL: CacheSetOptions = { ...CHANGING, onlyIfAbsent: true };
const NEGATIVE_FILL: CacheSetOptions = {
  ttl: { seconds: TWEET_NEGATIVE_TTL_SECONDS },
  onlyIfAbsent: true,
};
const TOMBSTONE: CacheSetOptions = { ttl: { seconds: TWEET_TOMBSTONE_TTL_SECONDS } };

// ---------------------------------------------------------------------------------------------
// The tweet cache
// ---------------------------------------------------------------------------------------------

/** One cached tweet: JSON, a negative entry, null (absent) or undefined (cache unavailable). */
export function readCachedTweet(cache: Pick<Cache, 'get'>, tweetId: string) {
  // Returned, not awaited: the hit path of GET /v1/tweets/{id} is this one GET.
  return cache.get('get tweet', tweetCacheKey(tweetId));
}

/** Cached tweets in id order, in one round trip; undefined when the cache is unavailable. */
export function readCachedTweets(cache: Pick<Cache, 'getMany'>, tweetIds: readonly string[]) {
  return cache.getMany(
    'get tweets',
    tweetIds.map((id) => tweetCacheKey(id)),
  );
}

/**
 * Caches a freshly rendered tweet: for an hour when `settled` (all media final), else a second.
 * `fill` (read-through) writes only if no entry exists, so a tombstone or a newer write is never
 * overwritten by a read that raced it.
 */
export function cacheTweetCommand(
  batch: CacheBatch,
  tweetId: string,
  json: TweetJson,
  settled: boolean,
  mode: 'fill' | 'overwrite',
): void {
  const fill = mode === 'fill';
  const options = settled ? (fill ? SETTLED_FILL : SETTLED) : fill ? CHANGING_FILL : CHANGING;
  batch.set(tweetCacheKey(tweetId), json, options);
}

/** The tombstone of a deleted tweet, as a command of a batch (the fanout's REMOVE). */
export function tombstoneTweetCommand(batch: CacheBatch, tweetId: string): void {
  batch.set(tweetCacheKey(tweetId), NEGATIVE_ENTRY, TOMBSTONE);
}

export interface TweetFill {
  readonly tweetId: string;
  readonly json: TweetJson;
  readonly settled: boolean;
}

/** Read-through fills: rendered tweets, and negative entries for ids that do not exist. */
export async function fillCachedTweets(
  cache: Pick<Cache, 'batch'>,
  what: string,
  fills: readonly TweetFill[],
  missing: readonly string[] = [],
): Promise<void> {
  await cache.batch(what, (batch) => {
    for (const { tweetId, json, settled } of fills) {
      cacheTweetCommand(batch, tweetId, json, settled, 'fill');
    }
    for (const id of missing) batch.set(tweetCacheKey(id), NEGATIVE_ENTRY, NEGATIVE_FILL);
  });
}

/** A tweet just created, cached over anything there. */
export async function cacheNewTweet(cache: Pick<Cache, 'batch'>, fill: TweetFill): Promise<void> {
  await cache.batch('cache new tweet', (batch) =>
    cacheTweetCommand(batch, fill.tweetId, fill.json, fill.settled, 'overwrite'),
  );
}

/** A negative entry for an id that does not exist (unless something is cached already). */
export async function cacheMissingTweet(cache: Pick<Cache, 'set'>, tweetId: string) {
  await cache.set('negative tweet', tweetCacheKey(tweetId), NEGATIVE_ENTRY, NEGATIVE_FILL);
}

/** Overwrites the cached tweet with a tombstone after a delete. */
export async function tombstoneCachedTweet(cache: Pick<Cache, 'set'>, tweetId: string) {
  await cache.set('tombstone tweet', tweetCacheKey(tweetId), NEGATIVE_ENTRY, TOMBSTONE);
}

/**
 * Drops the cached tweet so the next read sees current media state. The transcoder calls this
 * after every state change of attached media. Best effort: the short TTL of tweets with changing
 * media bounds staleness if Redis is unreachable.
 */
export async function invalidateCachedTweet(cache: Pick<Cache, 'del'>, tweetId: string) {
  await cache.del('invalidate tweet', tweetCacheKey(tweetId));
}

/** Drops several cached tweets in one round trip (one DEL each: the keys span slots). */
export async function invalidateCachedTweets(
  cache: Pick<Cache, 'batch'>,
  what: string,
  tweetIds: readonly string[],
): Promise<void> {
  if (tweetIds.length === 0) return;
  await cache.batch(what, (batch) => {
    for (const tweetId of tweetIds) batch.del(tweetCacheKey(tweetId));
  });
}

// ---------------------------------------------------------------------------------------------
// Tweets as the API shows them, hydrated through the cache
// ---------------------------------------------------------------------------------------------

/** The API's tweet object. */
export interface TweetObject {
  readonly tweet_id: string;
  readonly user_id: string;
  readonly text: string;
  readonly created_at: string;
  readonly media: MediaObject[];
  /** Present when the author has a profile (from their first call). */
  readonly author?: AuthorObject;
}

/** Tweets rendered with an avatar still processing: cached briefly, like changing media. */
const changingAuthor = new WeakSet<TweetObject>();

export function renderTweet(
  tweet: TweetRecord,
  media: ReadonlyMap<string, MediaRecord>,
  cdnBaseUrl: string,
  authors: ReadonlyMap<string, Author> = new Map(),
): TweetObject {
  const objects: MediaObject[] = [];
  for (const mediaId of tweet.media_ids ?? []) {
    const record = media.get(mediaId);
    // A media record can vanish only through cleanup; the tweet still renders without it.
    if (record !== undefined) objects.push(renderMedia(record, cdnBaseUrl));
  }
  const author = authors.get(tweet.user_id);
  const rendered: TweetObject = {
    tweet_id: tweet.tweet_id,
    user_id: tweet.user_id,
    text: tweet.text,
    created_at: tweet.created_at,
    media: objects,
    ...(author !== undefined ? { author: author.object } : {}),
  };
  if (author?.avatarChanging === true) changingAuthor.add(rendered);
  return rendered;
}

/** Whether every media object is final, so the cached entry may live long. */
export function isSettled(tweet: TweetObject): boolean {
  return tweet.media.every((media) => isFinalStatus(media.status)) && !changingAuthor.has(tweet);
}

/** A rendered tweet as its cache entry. */
export function tweetFill(tweet: TweetObject): TweetFill {
  return { tweetId: tweet.tweet_id, json: JSON.stringify(tweet), settled: isSettled(tweet) };
}

/** Renders tweet records with their media and authors (one BatchGet for each). */
export async function renderTweets(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'cdnBaseUrl'>,
  records: readonly TweetRecord[],
): Promise<TweetObject[]> {
  const [media, authors] = await Promise.all([
    loadMedia(
      deps,
      records.flatMap((record) => record.media_ids ?? []),
    ),
    loadAuthors(
      deps,
      records.map((record) => record.user_id),
    ),
  ]);
  return records.map((record) => renderTweet(record, media, deps.cdnBaseUrl, authors));
}

/**
 * Hydrates tweet ids into tweet JSON: one batch of GETs (tweet keys hash to different slots,
 * so not MGET), then for the misses one BatchGet of tweets (unless
 * the records are already `known`) and one BatchGet of their media; the misses are cached.
 * Returns, per id, the JSON or null when the tweet does not exist (deleted, or never did).
 */
export async function hydrateTweets(
  deps: Deps,
  tweetIds: readonly string[],
  known?: ReadonlyMap<string, TweetRecord>,
): Promise<Map<string, TweetJson | null>> {
  const result = new Map<string, TweetJson | null>();
  if (tweetIds.length === 0) return result;
  const cached = await readCachedTweets(deps.cache, tweetIds);
  const misses: string[] = [];
  tweetIds.forEach((id, index) => {
    const value = cached?.[index];
    if (value === null || value === undefined) misses.push(id);
    else result.set(id, isNegativeEntry(value) ? null : value);
  });
  countMetric(METRICS.names.cacheHit, tweetIds.length - misses.length);
  countMetric(METRICS.names.cacheMiss, misses.length);
  if (misses.length === 0) return result;

  const records = await loadTweetRecords(deps, misses, known);
  const rendered = await renderTweets(deps, [...records.values()]);
  const fills = rendered.map(tweetFill);
  for (const { tweetId, json } of fills) result.set(tweetId, json);
  const missing = misses.filter((id) => !records.has(id));
  for (const id of missing) result.set(id, null);
  await fillCachedTweets(deps.cache, 'fill tweets', fills, missing);
  return result;
}

async function loadTweetRecords(
  deps: Pick<Deps, 'dynamo' | 'tables'>,
  tweetIds: readonly string[],
  known?: ReadonlyMap<string, TweetRecord>,
): Promise<Map<string, TweetRecord>> {
  const records = new Map<string, TweetRecord>();
  const unknown: string[] = [];
  for (const id of tweetIds) {
    const record = known?.get(id);
    if (record !== undefined) records.set(id, record);
    else unknown.push(id);
  }
  for (const record of await readTweets(deps, unknown)) records.set(record.tweet_id, record);
  return records;
}

// ---------------------------------------------------------------------------------------------
// The tweets table
// ---------------------------------------------------------------------------------------------

/** One tweet record by id, strongly consistent; undefined for a malformed or missing id. */
export async function readTweet(deps: Store, tweetId: string): Promise<TweetRecord | undefined> {
  const key = parseTweetId(tweetId);
  if (key === undefined) return undefined;
  const out = await deps.dynamo.get({
    TableName: deps.tables.tweets,
    Key: key,
    ConsistentRead: true,
  });
  return out.Item as TweetRecord | undefined;
}

/** Tweet records by id (one BatchGet, strongly consistent); missing and malformed ids absent. */
export async function readTweets(deps: Store, tweetIds: readonly string[]): Promise<TweetRecord[]> {
  const keys: { user_id: string; tweet_id: string }[] = [];
  for (const id of tweetIds) {
    const key = parseTweetId(id);
    if (key !== undefined) keys.push({ user_id: key.user_id, tweet_id: key.tweet_id });
  }
  if (keys.length === 0) return [];
  const items = await batchGetAll(deps.dynamo, deps.tables.tweets, keys, { consistent: true });
  return items as unknown as TweetRecord[];
}

/**
 * One page of a user's tweets, newest first, strictly older than `before` (a tweet id's sort key).
 * The Query itself is the timelines' sources' (newestFirstQuery), which read the same partition.
 */
export async function readUserTweets(
  deps: Store,
  userId: string,
  before: string | undefined,
  limit: number,
): Promise<TweetRecord[]> {
  const out = await deps.dynamo.query(newestFirstQuery(deps, userId, before, limit));
  return (out.Items ?? []) as TweetRecord[];
}

/** Deletes a tweet record; false when it was gone already (a retried attempt, a concurrent delete). */
export async function deleteTweetRecord(deps: Store, tweetId: string): Promise<boolean> {
  const key = parseTweetId(tweetId);
  if (key === undefined) return false;
  try {
    await deps.dynamo.delete({
      TableName: deps.tables.tweets,
      Key: key,
      ConditionExpression: 'attribute_exists(tweet_id)',
    });
    return true;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Create: the tweet, its media, the author's newest tweet and the idempotency record, at once
// ---------------------------------------------------------------------------------------------

/** An Idempotency-Key's record: which request (body hash) made which tweet. */
export interface IdempotencyRecord {
  readonly request_hash: string;
  readonly tweet_id: string;
  readonly expires_at: number;
}

/** The idempotency record of a user's key, strongly consistent (expired ones included). */
export async function readIdempotencyRecord(
  deps: Store,
  userId: string,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.idempotency(userId, key),
    ConsistentRead: true,
  });
  return out.Item as IdempotencyRecord | undefined;
}

/**
 * Writes a new tweet in one transaction: the tweet, its media attached (each conditional on the
 * media rules), the author's newest tweet, and the idempotency record when a key is given.
 * Cancellation reasons come in that order: tweet, media..., profile, idempotency.
 */
export async function writeNewTweet(
  deps: Store,
  record: TweetRecord,
  now: number,
  hash: string,
  idempotencyKey: string | undefined,
): Promise<void> {
  await deps.dynamo.transactWrite(createTransaction(deps, record, now, hash, idempotencyKey));
}

function createTransaction(
  deps: Store,
  record: TweetRecord,
  now: number,
  hash: string,
  idempotencyKey: string | undefined,
): TransactWriteCommandInput {
  const nowIso = new Date(now).toISOString();
  const nowSeconds = Math.floor(now / 1000);
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Put: {
        TableName: deps.tables.tweets,
        Item: record,
        ConditionExpression: 'attribute_not_exists(tweet_id)',
      },
    },
  ];
  for (const mediaId of record.media_ids) {
    items.push(
      attachToTweetItem(deps, { mediaId, tweetId: record.tweet_id, ownerId: record.user_id }, now),
    );
  }
  // The author's newest tweet, so timeline rebuilds read only authors who can contribute
  // (rebuild-authors.ts).
  items.push(lastTweetItem(deps.tables, record.user_id, record.tweet_id));
  if (idempotencyKey !== undefined) {
    const stored: IdempotencyRecord & Record<string, unknown> = {
      ...METADATA_KEYS.idempotency(record.user_id, idempotencyKey),
      request_hash: hash,
      tweet_id: record.tweet_id,
      created_at: nowIso,
      expires_at: nowSeconds + LIMITS.idempotencyTtlSeconds,
    };
    items.push({
      Put: {
        TableName: deps.tables.metadata,
        Item: stored,
        // An expired record may linger until TTL removes it; it no longer counts.
        ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
    });
  }
  // The SDK retries an attempt that timed out after DynamoDB applied it; the same token makes
  // that retry a success instead of a cancellation by our own writes. One token per tweet id.
  return { TransactItems: items, ClientRequestToken: tweetUlidOf(record.tweet_id) };
}
