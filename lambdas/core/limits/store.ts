/**
 * The rate limiter's state in the cache: one GCRA timestamp per caller and class, spent by one
 * Lua script on one key, so concurrent requests of one caller cannot both take the last token.
 *
 * Why a script of our own rather than rate-limiter-flexible: it was written against the project's
 * own Redis client (since replaced by ioredis), and GCRA is nine lines of Lua in one EVAL; the
 * library now fits the client and could replace it.
 */
import type { RateLimitClass } from '../../../app/model';
import type { Cache, CacheScript } from '../cache-port';

/**
 * KEYS[1] the caller's bucket; ARGV[1] now (µs); ARGV[2] µs per request (period / limit, rounded
 * up); ARGV[3] period (µs). The stored value is the theoretical arrival time (TAT): when the bucket
 * would be full again. A request is allowed if, after adding its interval, the TAT is at most one
 * period ahead. Returns {1, 0} when allowed, {0, µs until one would be}. Microseconds, not
 * milliseconds: an interval rounded up to 1 ms held a 1,000,000/1 s limit to 1,000 requests/s.
 * Times in µs (~1.8e15) stay exact in Lua's doubles (below 2^53).
 */
const GCRA = {
  name: 'rateLimitGcra',
  lua: `
local now = tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local next_tat = tat + tonumber(ARGV[2])
local wait = next_tat - tonumber(ARGV[3]) - now
if wait > 0 then return {0, wait} end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000))
return {1, 0}`,
  numberOfKeys: 1,
} as const satisfies CacheScript;

/** The key of one caller's bucket for one class; the hash tag keeps it in the caller's slot. */
export const rateLimitKey = (userId: string, routeClass: RateLimitClass) =>
  `rl:{${userId}}:${routeClass}`;

/** How spending one request went: allowed, or how long until one would be (ms). */
export type TokenOutcome = { readonly allowed: true } | { readonly allowed: false; waitMs: number };

/**
 * Spends one of `limit` requests per `periodMs` from the caller's bucket for the class.
 * Undefined when the cache could not answer.
 */
export async function takeRateLimitToken(
  cache: Pick<Cache, 'run'>,
  userId: string,
  routeClass: RateLimitClass,
  limit: number,
  periodMs: number,
  nowMs: number,
): Promise<TokenOutcome | undefined> {
  const reply = await cache.run(
    'rate limit',
    GCRA,
    [rateLimitKey(userId, routeClass)],
    [Math.floor(nowMs * 1000), Math.ceil((periodMs * 1000) / limit), periodMs * 1000],
  );
  if (!Array.isArray(reply)) return undefined;
  const [allowed, waitUs] = reply as [unknown, unknown];
  return allowed === 1 ? { allowed: true } : { allowed: false, waitMs: Number(waitUs) / 1000 };
}
