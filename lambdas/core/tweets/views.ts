/**
 * Tweets as the API shows them (tweet + media objects + author), and their read-through hydration
 * from the tweet cache (store.ts) with the media and users stores behind it.
 */
import { METRICS } from '../../../app/model';
import type { Deps } from '../ports';
import { isFinalStatus, loadMedia, renderMedia, type MediaObject } from '../media/service';
import type { MediaRecord, TweetRecord } from '../records';
import { loadAuthors, type Author, type AuthorObject } from '../users/service';
import { countMetric } from '../../platform/metrics';
import {
  fillCachedTweets,
  isNegativeEntry,
  readCachedTweets,
  readTweets,
  type TweetFill,
  type TweetJson,
} from './store';

export type { TweetJson } from './store';

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
