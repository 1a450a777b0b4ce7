/**
 * Per-caller rate limits, kept in the cache: GCRA (the generic cell rate algorithm, a token bucket
 * that stores one timestamp per caller and class instead of a count and a refill timer), spent by
 * one script of the limits store (store.ts).
 *
 * The cache being down fails open, for reads and writes alike: the limiter protects capacity that
 * is shared, and what a cache outage leaves unguarded is bounded elsewhere. The costly abuses,
 * uploads and follows, are capped in DynamoDB (upload-quota.ts, follows.ts), and the stage throttle
 * still holds everyone to 200 requests/s. A DynamoDB-backed count for writes would add a write to
 * every write during an outage, when DynamoDB is already serving every read the cache used to.
 */
import { LIMITS, type RateLimitClass } from '../../../app/model';
import { tooManyRequests } from '../errors';
import type { Cache } from '../cache-port';
import { takeRateLimitToken } from './store';

export interface RateLimit {
  readonly limit: number;
  readonly periodSeconds: number;
}

export type RateLimits = Readonly<Record<RateLimitClass, RateLimit>>;

export type RateLimitOutcome = 'allowed' | 'limited' | 'unavailable';

/**
 * Spends one request of `userId`'s `routeClass` budget. Throws a 429 `rate_limited` with
 * Retry-After (before anything is written) when it is spent; returns how it decided, for the metrics.
 */
export async function enforceRateLimit(
  deps: { readonly cache: Pick<Cache, 'run'> },
  limits: RateLimits,
  userId: string,
  routeClass: RateLimitClass,
  nowMs: number = Date.now(),
): Promise<RateLimitOutcome> {
  const { limit, periodSeconds } = limits[routeClass];
  const outcome = await takeRateLimitToken(
    deps.cache,
    userId,
    routeClass,
    limit,
    periodSeconds * 1000,
    nowMs,
  );
  if (outcome === undefined) return 'unavailable';
  if (outcome.allowed) return 'allowed';
  const retryAfter = outcome.waitMs / 1000;
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
