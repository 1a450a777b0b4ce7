/**
 * Per-caller rate limits, kept in the cache: GCRA (the generic cell rate algorithm, a token bucket
 * that stores one timestamp per caller and class instead of a count and a refill timer), in one
 * Lua script on one key, so concurrent requests of one caller cannot both take the last token.
 *
 * Why a script of our own rather than rate-limiter-flexible: it was written against the project's
 * own Redis client (since replaced by ioredis), and GCRA is nine lines of Lua in one EVAL; the
 * library now fits the client and could replace it.
 *
 * The cache being down fails open, for reads and writes alike: the limiter protects capacity that
 * is shared, and what a cache outage leaves unguarded is bounded elsewhere. The costly abuses,
 * uploads and follows, are capped in DynamoDB (upload-quota.ts, follows.ts), and the stage throttle
 * still holds everyone to 200 requests/s. A DynamoDB-backed count for writes would add a write to
 * every write during an outage, when DynamoDB is already serving every read the cache used to.
 */
import { LIMITS, type RateLimitClass } from '../../../app/model';
import { tooManyRequests } from '../errors';
import type { CacheClient } from '../../platform/clients';
import { tryCommand } from '../../platform/cache';

export interface RateLimit {
  readonly limit: number;
  readonly periodSeconds: number;
}

export type RateLimits = Readonly<Record<RateLimitClass, RateLimit>>;

/**
 * KEYS[1] the caller's bucket; ARGV[1] now (ms); ARGV[2] ms per request (period / limit);
 * ARGV[3] period (ms). The stored value is the theoretical arrival time (TAT): when the bucket
 * would be full again. A request is allowed if, after adding its interval, the TAT is at most one
 * period ahead. Returns {1, 0} when allowed, {0, ms until one would be}.
 */
const GCRA = `
local now = tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local next_tat = tat + tonumber(ARGV[2])
local wait = next_tat - tonumber(ARGV[3]) - now
if wait > 0 then return {0, wait} end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return {1, 0}`;

/** The key of one caller's bucket for one class; the hash tag keeps it in the caller's slot. */
export const rateLimitKey = (userId: string, routeClass: RateLimitClass) =>
  `rl:{${userId}}:${routeClass}`;

export type RateLimitOutcome = 'allowed' | 'limited' | 'unavailable';

/**
 * Spends one request of `userId`'s `routeClass` budget. Throws a 429 `rate_limited` with
 * Retry-After (before anything is written) when it is spent; returns how it decided, for the metrics.
 */
export async function enforceRateLimit(
  redis: CacheClient,
  limits: RateLimits,
  userId: string,
  routeClass: RateLimitClass,
  nowMs: number = Date.now(),
): Promise<RateLimitOutcome> {
  const { limit, periodSeconds } = limits[routeClass];
  const periodMs = periodSeconds * 1000;
  const reply = await tryCommand(redis, 'rate limit', (client) =>
    client.eval(
      GCRA,
      1,
      rateLimitKey(userId, routeClass),
      Math.floor(nowMs),
      Math.ceil(periodMs / limit),
      periodMs,
    ),
  );
  if (!Array.isArray(reply)) return 'unavailable';
  const [allowed, waitMs] = reply;
  if (allowed === 1) return 'allowed';
  const retryAfter = Number(waitMs) / 1000;
  throw tooManyRequests(
    'rate_limited',
    `Too many requests; retry in ${Math.ceil(retryAfter)} s`,
    retryAfter,
  );
}

/**
 * The defaults with any overrides from a `class=limit/seconds,...` list (the RATE_LIMITS
 * variable). A malformed list is a deployment bug: it throws, failing the cold start loudly.
 */
export function parseRateLimits(spec: string | undefined): RateLimits {
  const limits: Record<string, RateLimit> = { ...LIMITS.rateLimits };
  for (const part of (spec ?? '').split(',')) {
    if (part.trim() === '') continue;
    const match = /^\s*([a-z_]+)\s*=\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(part);
    const [, name, limit, seconds] = match ?? [];
    if (name === undefined || !Object.hasOwn(LIMITS.rateLimits, name) || Number(limit) < 1) {
      throw new Error(`Not a rate limit: "${part}" (expected e.g. write=60/60)`);
    }
    if (Number(seconds) < 1) throw new Error(`Not a rate limit period: "${part}"`);
    limits[name] = { limit: Number(limit), periodSeconds: Number(seconds) };
  }
  return limits as RateLimits;
}
