/**
 * @deprecated Transitional (issue 18): every key now lives in its store (tweets/store.ts
 * tweetCacheKey, timelines/store-keys.ts, follows/store-cache.ts). Only tests still name the tweet
 * key through here; delete this file once they import tweetCacheKey.
 */
import { tweetCacheKey } from './tweets/store';

export const cacheKeys = {
  /** @deprecated The tweets store's key (tweets/store.ts tweetCacheKey). */
  tweet: (tweetId: string) => tweetCacheKey(tweetId),
} as const;
