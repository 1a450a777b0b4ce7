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
 * up); ARGV[3] period (µs); ARGV[4] how many requests to take at most. The stored value is the
 * theoretical arrival time (TAT): when the bucket would be full again. A request fits if, after
 * adding its interval, the TAT is at most one period ahead; the script takes as many as fit, up to
 * ARGV[4]. Returns {taken, 0}, or {0, µs until one would fit}. Microseconds, not milliseconds: an
 * interval rounded up to 1 ms held a 1,000,000/1 s limit to 1,000 requests/s. Times in µs
 * (~1.8e15) stay exact in Lua's doubles (below 2^53).
 */
const GCRA = {
  name: 'rateLimitGcraTake',
  lua: `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local fit = math.floor((now + tonumber(ARGV[3]) - tat) / interval)
if fit < 1 then return {0, tat + interval - tonumber(ARGV[3]) - now} end
local taken = math.min(fit, tonumber(ARGV[4]))
local next_tat = tat + taken * interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000))
return {taken, 0}`,
  numberOfKeys: 1,
} as const satisfies CacheScript;

/** The key of one caller's bucket for one class; the hash tag keeps it in the caller's slot. */
export const rateLimitKey = (userId: string, routeClass: RateLimitClass) =>
  `rl:{${userId}}:${routeClass}`;

/** How taking requests went: how many were taken (at least 1), or how long until one fits (ms). */
export type TokenOutcome =
  | { readonly allowed: true; readonly taken: number }
  | { readonly allowed: false; readonly waitMs: number };

/**
 * Takes up to `want` of `limit` requests per `periodMs` from the caller's bucket for the class,
 * as many as fit now. Undefined when the cache could not answer.
 */
export async function takeRateLimitTokens(
  cache: Pick<Cache, 'run'>,
  userId: string,
  routeClass: RateLimitClass,
  limit: number,
  periodMs: number,
  nowMs: number,
  want = 1,
): Promise<TokenOutcome | undefined> {
  const reply = await cache.run(
    'rate limit',
    GCRA,
    [rateLimitKey(userId, routeClass)],
    [Math.floor(nowMs * 1000), Math.ceil((periodMs * 1000) / limit), periodMs * 1000, want],
  );
  if (!Array.isArray(reply)) return undefined;
  const [taken, waitUs] = reply as [unknown, unknown];
  return typeof taken === 'number' && taken >= 1
    ? { allowed: true, taken }
    : { allowed: false, waitMs: Number(waitUs) / 1000 };
}
