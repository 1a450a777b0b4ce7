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
import { ULID_LENGTH } from '../ids';

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

/** A Cognito user id (the `sub` claim): a lower-case UUID, 36 characters. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Marks a member whose author is a UUID in base64url; user ids never contain it. */
const COMPACT_AUTHOR = '~';

/**
 * What follows the ULID in each timeline member of `author`'s tweets: `-{user id}` as in the tweet
 * id, or for a UUID (Cognito's user ids) `~` and its 16 bytes in base64url, 22 characters instead
 * of 36. That keeps a member within 64 bytes, so a chunk stays a listpack
 * (zset-max-listpack-value), and saves 14 of ~75 bytes an entry takes (bench/README.md).
 */
export function timelineAuthorSuffix(author: string): string {
  if (!UUID_PATTERN.test(author)) return `-${author}`;
  return COMPACT_AUTHOR + Buffer.from(author.replaceAll('-', ''), 'hex').toString('base64url');
}

/** A tweet id as a timeline member (the ULID keeps members of one score in the ids' order). */
export function timelineMember(tweetId: string): string {
  return tweetId.slice(0, ULID_LENGTH) + timelineAuthorSuffix(tweetId.slice(ULID_LENGTH + 1));
}

/** The tweet id a timeline member stands for (timelineMember's inverse). */
export function tweetIdOfMember(member: string): string {
  if (member.charAt(ULID_LENGTH) !== COMPACT_AUTHOR) return member;
  const hex = Buffer.from(member.slice(ULID_LENGTH + 1), 'base64url').toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return `${member.slice(0, ULID_LENGTH)}-${uuid}`;
}
