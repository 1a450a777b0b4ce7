/**
 * Redis key names, in one place so every writer and invalidator agrees. Redis holds only what can
 * be rebuilt from DynamoDB.
 */
export const cacheKeys = {
  /** Hydrated tweet JSON (tweet object with media), or a short-lived negative entry. */
  tweet: (tweetId: string) => `tweet:${tweetId}`,
  /** Home timeline: sorted set of tweet ids scored by creation time (ms). */
  homeTimeline: (userId: string) => `tl:${userId}`,
  /**
   * JSON {followees, celebrities}: whom a user follows (null when too many to filter by), and which
   * of them are merged at read time (too many followers to fan out).
   */
  followGraph: (userId: string) => `graph:${userId}`,
  /** Set of an author's followers (plus `#` markers), so a fanout need not page DynamoDB. */
  followers: (userId: string) => `followers:${userId}`,
  /** JSON array: the newest tweet ids of an author who is merged at read time. */
  recentTweets: (userId: string) => `recent:${userId}`,
} as const;
