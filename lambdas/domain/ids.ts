/**
 * Identifiers. Tweet ids are `{ULID}-{user_id}`: the ULID makes them sort by creation time (so a
 * user's partition reads newest-first and a timeline's order is the ids' order), and the suffix
 * names the partition, so GET /v1/tweets/{id} is one strongly consistent GetItem.
 */
import { randomBytes } from 'node:crypto';
import { USER_ID_PATTERN } from '../../app/model';

/** Crockford base32, as the ULID spec uses. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ULID_LENGTH = 26;
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;

let lastTime = -1;
/** The 80 random bits of the last ULID, as 16 base32 digits (values 0..31). */
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = randomBytes(RANDOM_LENGTH);
  return Array.from(bytes, (byte) => byte & 31);
}

/** Increments a base32 digit array; returns false on overflow (80 bits exhausted in one ms). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    const digit = digits[i] ?? 0;
    if (digit < 31) {
      digits[i] = digit + 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_LENGTH; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * A ULID: 48-bit millisecond time then 80 random bits. Within one process, ids made in the same
 * millisecond increment the random part, so they stay strictly increasing.
 */
export function ulid(now: number = Date.now()): string {
  let time = now;
  if (time <= lastTime) {
    time = lastTime;
    if (!increment(lastRandom)) {
      // 2^80 ids in one millisecond cannot happen; move to the next millisecond to stay ordered.
      time = lastTime + 1;
      lastRandom = randomDigits();
    }
  } else {
    lastRandom = randomDigits();
  }
  lastTime = time;
  return encodeTime(time) + lastRandom.map((digit) => ALPHABET.charAt(digit)).join('');
}

/** Milliseconds since the epoch encoded in a valid ULID. */
export function ulidTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < TIME_LENGTH; i++) {
    ms = ms * 32 + ALPHABET.indexOf(id.charAt(i));
  }
  return ms;
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

/** Timeline score of a tweet: its creation time in ms. */
export function tweetTime(tweetId: string): number {
  return ulidTime(tweetId);
}

/**
 * Media ids are bare ULIDs with fresh randomness (not the monotonic increment), so one id never
 * hints at the next: opaque, unguessable (80 random bits) and sortable.
 */
export function newMediaId(now: number = Date.now()): string {
  return (
    encodeTime(now) +
    randomDigits()
      .map((digit) => ALPHABET.charAt(digit))
      .join('')
  );
}

export function isMediaId(value: unknown): value is string {
  return typeof value === 'string' && isUlid(value);
}
