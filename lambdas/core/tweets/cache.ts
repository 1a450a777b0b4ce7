/**
 * @deprecated Transitional (issue 18): what the timelines and media code imported from the old
 * tweet cache module, until their branches take the tweets store (store.ts: hydrateTweets,
 * tombstoneTweetCommand, invalidateCachedTweet). Delete this file once nothing imports it;
 * it is the one file of tweets/ that still knows the raw cache client.
 */
import type { CacheClient } from '../../platform/clients';
import { cacheOver } from '../../platform/cache';
import { invalidateCachedTweet } from './store';

export { hydrateTweets, NEGATIVE_ENTRY, TWEET_TOMBSTONE_TTL_SECONDS } from './store';

/** @deprecated invalidateCachedTweet(cache, tweetId) in store.ts. */
export async function invalidateTweet(redis: CacheClient, tweetId: string): Promise<void> {
  await invalidateCachedTweet(cacheOver(redis), tweetId);
}
