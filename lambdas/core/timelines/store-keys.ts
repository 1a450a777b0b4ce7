/**
 * The home-timeline store's key names and its built marker (store.ts has the rest), apart so that
 * tools and tests can name keys without loading the store's dependencies.
 *
 * The home timeline carries the user id as a hash tag in literal braces, like the follow graph
 * `graph:{user}` (../follows/store-cache.ts): the page script reads both in one command, and in
 * cluster mode (ElastiCache Serverless) a script may only touch keys of one hash slot. User ids
 * cannot contain braces.
 */
export const timelineKeys = {
  /** Home timeline: sorted set of tweet ids scored by creation time (ms). */
  homeTimeline: (userId: string) => `tl:{${userId}}`,
  /** JSON array: the newest tweet ids of an author who is merged at read time. */
  recentTweets: (userId: string) => `recent:${userId}`,
} as const;

/** Members at score -inf mark a home timeline's state; they are never tweet ids. */
export const TIMELINE_SENTINEL = 'built';
