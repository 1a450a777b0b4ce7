/**
 * Identifiers. Tweet ids are `{ULID}-{user_id}`: the ULID makes them sort by creation time (so a
 * user's partition reads newest-first and a timeline's order is the ids' order), and the suffix
 * names the partition, so GET /v1/tweets/{id} is one strongly consistent GetItem.
 */
import { decodeTime, monotonicFactory, ulid as freshUlid } from 'ulidx';
import { USER_ID_PATTERN } from '../../app/model';

/** Upper-case Crockford base32 with a 48-bit time, as ulidx makes them (and ids must be exact). */
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
/** Characters of a ULID; a tweet id's author starts after it and a dash. */
export const ULID_LENGTH = 26;

/**
 * A ULID: 48-bit millisecond time then 80 random bits. Within one process, ids made in the same
 * millisecond (or with a clock that stepped back) increment the random part, so they stay
 * strictly increasing.
 */
export const ulid: (now?: number) => string = monotonicFactory();

/** Milliseconds since the epoch encoded in a valid ULID (or an id that starts with one). */
export function ulidTime(id: string): number {
  return decodeTime(id.slice(0, ULID_LENGTH));
}

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

export interface TweetKey {
  readonly user_id: string;
  readonly tweet_id: string;
}

export function newTweetId(userId: string, now?: number): string {
  return `${ulid(now)}-${userId}`;
}

/** The owner and key of a tweet id, or undefined when it is not a well-formed tweet id. */
export function parseTweetId(tweetId: string): TweetKey | undefined {
  if (tweetId.length < ULID_LENGTH + 2 || tweetId.charAt(ULID_LENGTH) !== '-') return undefined;
  const userId = tweetId.slice(ULID_LENGTH + 1);
  if (!isUlid(tweetId.slice(0, ULID_LENGTH)) || !isUserId(userId)) return undefined;
  return { user_id: userId, tweet_id: tweetId };
}

/** The author named in a tweet id (no check: parseTweetId checks). */
export const tweetAuthorOf = (tweetId: string): string => tweetId.slice(ULID_LENGTH + 1);

/** The ULID part of a tweet id. */
export const tweetUlidOf = (tweetId: string): string => tweetId.slice(0, ULID_LENGTH);

/** Timeline score of a tweet: its creation time in ms. */
export function tweetTime(tweetId: string): number {
  return ulidTime(tweetId);
}

/**
 * Media ids are bare ULIDs with fresh randomness (not the monotonic increment), so one id never
 * hints at the next: opaque, unguessable (80 random bits) and sortable.
 */
export function newMediaId(now: number = Date.now()): string {
  return freshUlid(now);
}

// For a string, the answer is about its format, not its type: no narrowing (a refused id is
// still a string, e.g. for the error message).
export function isMediaId(value: string): boolean;
export function isMediaId(value: unknown): value is string;
export function isMediaId(value: unknown): boolean {
  return typeof value === 'string' && isUlid(value);
}
