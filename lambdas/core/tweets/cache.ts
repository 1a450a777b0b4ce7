/**
 * Tweets as the API shows them (tweet + media objects), and their read-through Redis cache.
 *
 * `tweet:{id}` holds the hydrated tweet JSON, so a hit is served as stored, without parsing.
 * - All media final (ready/failed) or none: cached for an hour; nothing about it changes except
 *   deletion, which overwrites the entry with a tombstone.
 * - Any media still pending/processing: cached for at most a second, so a media state change
 *   shows within the 2 s promise even if its invalidation races a read-through fill.
 * - Missing ids: a negative entry for 30 s; deleted tweets: a tombstone for 60 s (longer than a
 *   Lambda's timeout, so a fill that read DynamoDB before the delete cannot resurrect it, since
 *   fills only write with NX).
 */
import type { ChainableCommander } from 'ioredis';
import type { CacheClient } from '../../platform/clients';
import { METADATA_KEYS, METRICS } from '../../../app/model';
import { cacheKeys } from '../cache-keys';
import { tryCommand, tryGetMany, tryPipeline } from '../../platform/cache';
import type { Deps } from '../ports';
import { batchGetAll } from '../../platform/dynamo';
import { parseTweetId } from '../ids';
import { isFinalStatus, loadMedia, renderMedia, type MediaObject } from '../media/service';
import type { MediaRecord, TweetRecord } from '../records';
import { loadAuthors, type Author, type AuthorObject } from '../users/profiles';
import { countMetric } from '../../platform/metrics';

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

/** A tweet object already serialised as JSON (what the cache holds). */
export type TweetJson = string;

export const TWEET_TTL_FINAL_SECONDS = 60 * 60;
export const TWEET_TTL_CHANGING_MS = 1000;
export const TWEET_NEGATIVE_TTL_SECONDS = 30;
export const TWEET_TOMBSTONE_TTL_SECONDS = 60;
/** Any cached value that is not a JSON object is a negative entry. */
export const NEGATIVE_ENTRY = '0';

export function isNegativeEntry(value: string): boolean {
  return value.charCodeAt(0) !== 123; // '{'
}

/**
 * Drops the cached tweet so the next read sees current media state. The transcoder calls this
 * after every state change of attached media. Best effort: the short TTL of tweets with changing
 * media bounds staleness if Redis is unreachable.
 */
export async function invalidateTweet(redis: CacheClient, tweetId: string): Promise<void> {
  await tryCommand(redis, 'invalidate tweet', (client) => client.del(cacheKeys.tweet(tweetId)));
}

/** Overwrites the cached tweet with a tombstone after a delete. */
export async function tombstoneTweet(redis: CacheClient, tweetId: string): Promise<void> {
  await tryCommand(redis, 'tombstone tweet', (client) =>
    client.set(cacheKeys.tweet(tweetId), NEGATIVE_ENTRY, 'EX', TWEET_TOMBSTONE_TTL_SECONDS),
  );
}

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

/**
 * Caches a freshly rendered tweet. `fill` (read-through) writes only if no entry exists, so a
 * tombstone or a newer write is never overwritten by a read that raced it.
 */
export function cacheTweetCommand(
  pipeline: ChainableCommander,
  tweet: TweetObject,
  json: TweetJson,
  mode: 'fill' | 'overwrite',
): void {
  const key = cacheKeys.tweet(tweet.tweet_id);
  const ttl: ['EX', number] | ['PX', number] = isSettled(tweet)
    ? ['EX', TWEET_TTL_FINAL_SECONDS]
    : ['PX', TWEET_TTL_CHANGING_MS];
  if (mode === 'fill') {
    pipeline.set(key, json, ttl[0] as 'EX', ttl[1], 'NX');
  } else {
    pipeline.set(key, json, ttl[0] as 'EX', ttl[1]);
  }
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
 * Hydrates tweet ids into tweet JSON: one pipeline of GETs (tweet keys hash to different slots,
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
  const cached = await tryGetMany(
    deps.redis,
    'get tweets',
    tweetIds.map((id) => cacheKeys.tweet(id)),
  );
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
  const fills = rendered.map((tweet) => ({ tweet, json: JSON.stringify(tweet) }));
  for (const { tweet, json } of fills) result.set(tweet.tweet_id, json);
  const missing = misses.filter((id) => !records.has(id));
  for (const id of missing) result.set(id, null);
  await tryPipeline(deps.redis, 'fill tweets', (pipeline) => {
    for (const { tweet, json } of fills) cacheTweetCommand(pipeline, tweet, json, 'fill');
    for (const id of missing) {
      pipeline.set(cacheKeys.tweet(id), NEGATIVE_ENTRY, 'EX', TWEET_NEGATIVE_TTL_SECONDS, 'NX');
    }
  });
  return result;
}

async function loadTweetRecords(
  deps: Pick<Deps, 'dynamo' | 'tables'>,
  tweetIds: readonly string[],
  known?: ReadonlyMap<string, TweetRecord>,
): Promise<Map<string, TweetRecord>> {
  const records = new Map<string, TweetRecord>();
  const keys: { user_id: string; tweet_id: string }[] = [];
  for (const id of tweetIds) {
    const record = known?.get(id);
    if (record !== undefined) {
      records.set(id, record);
      continue;
    }
    const key = parseTweetId(id);
    if (key !== undefined) keys.push({ user_id: key.user_id, tweet_id: key.tweet_id });
  }
  if (keys.length > 0) {
    const items = await batchGetAll(deps.dynamo, deps.tables.tweets, keys, { consistent: true });
    for (const item of items) {
      const record = item as unknown as TweetRecord;
      records.set(record.tweet_id, record);
    }
  }
  return records;
}

/** The media keys of a tweet, for callers that update its media records. */
export const mediaKeys = (mediaIds: readonly string[]) =>
  mediaIds.map((id) => METADATA_KEYS.media(id));
