/**
 * The home-timeline store's key names and its built marker (store.ts has the rest), apart so that
 * tools and tests can name keys without loading the store's dependencies.
 *
 * A home timeline is an index `tl:{user}:i` and chunks `tl:{user}:{n}` (store.ts says why and
 * how). Every key carries the user id as a hash tag in literal braces, like the follow graph
 * `graph:{user}` (../follows/store-cache.ts): the timeline scripts read the index, its chunks and
 * the graph in one command, and in cluster mode (ElastiCache Serverless) a script may only touch
 * keys of one hash slot. User ids cannot contain braces.
 */
export const timelineKeys = {
  /**
   * A home timeline's index: sorted set of its markers (score -inf), its size (member `size`,
   * scored minus the entry count) and its chunks (member: the chunk's number, score: the lowest
   * score it holds). The key exists exactly when the timeline is cached (built or being built).
   */
  homeTimeline: (userId: string) => `tl:{${userId}}:i`,
  /** One chunk of a home timeline: sorted set of tweet ids scored by creation time (ms). */
  timelineChunk: (userId: string, chunk: string | number) => `tl:{${userId}}:${chunk}`,
  /**
   * The unchunked home timeline of before issue #15 (one sorted set). Never read; a rebuild
   * deletes it, and unread ones expire within their 3 days.
   */
  legacyHomeTimeline: (userId: string) => `tl:{${userId}}`,
  /** JSON array: the newest tweet ids of an author who is merged at read time. */
  recentTweets: (userId: string) => `recent:${userId}`,
} as const;

/** Members at score -inf mark a home timeline's state; they are never tweet ids. */
export const TIMELINE_SENTINEL = 'built';

/** The index member whose score is minus the timeline's entry count. */
export const TIMELINE_SIZE_MEMBER = 'size';
