/**
 * Redis key names, in one place so every writer and invalidator agrees. Redis holds only what can
 * be rebuilt from DynamoDB.
 */
export const cacheKeys = {
  /** Hydrated tweet JSON (tweet object with media), or a short-lived negative entry. */
  tweet: (tweetId: string) => `tweet:${tweetId}`,
  /** Home timeline: sorted set of tweet ids scored by creation time (ms). */
  homeTimeline: (userId: string) => `tl:${userId}`,
} as const;
