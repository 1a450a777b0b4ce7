/**
 * Redis key names, in one place so every writer and invalidator agrees. Redis holds only what can
 * be rebuilt from DynamoDB.
 *
 * The cache runs in cluster mode (ElastiCache Serverless; locally a one-node cluster): a command or
 * script may only touch keys of one hash slot. Keys read together by one script therefore carry
 * the user id as a hash tag in literal braces: `tl:{alice}` and `graph:{alice}` share a slot (user
 * ids cannot contain braces). Tweet keys have no tag, so they spread over the slots; several are
 * read with a pipeline of GETs, never MGET.
 */
import { tweetCacheKey } from './tweets/store';

export const cacheKeys = {
  /**
   * @deprecated The tweets store's key (tweets/store.ts tweetCacheKey); kept here until the
   * fanout writes its tombstones with tombstoneTweetCommand.
   */
  tweet: (tweetId: string) => tweetCacheKey(tweetId),
  /** Home timeline: sorted set of tweet ids scored by creation time (ms). */
  homeTimeline: (userId: string) => `tl:{${userId}}`,
  /**
   * JSON {followees, celebrities}: whom a user follows (null when too many to filter by), and which
   * of them are merged at read time (too many followers to fan out).
   */
  followGraph: (userId: string) => `graph:{${userId}}`,
  /** Set of an author's followers (plus `#` markers), so a fanout need not page DynamoDB. */
  followers: (userId: string) => `followers:${userId}`,
  /** JSON array: the newest tweet ids of an author who is merged at read time. */
  recentTweets: (userId: string) => `recent:${userId}`,
} as const;
