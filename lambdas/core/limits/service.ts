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
import { takeRateLimitTokens } from './store';

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
  const outcome = await take(deps, limits, userId, routeClass, nowMs, 1);
  if (outcome === undefined) return 'unavailable';
  if (outcome.allowed) return 'allowed';
  throw rateLimited(outcome.waitMs);
}

/** Takes up to `want` requests of the class's budget from the caller's bucket in the cache. */
function take(
  deps: { readonly cache: Pick<Cache, 'run'> },
  limits: RateLimits,
  userId: string,
  routeClass: RateLimitClass,
  nowMs: number,
  want: number,
) {
  const { limit, periodSeconds } = limits[routeClass];
  return takeRateLimitTokens(
    deps.cache,
    userId,
    routeClass,
    limit,
    periodSeconds * 1000,
    nowMs,
    want,
  );
}

function rateLimited(waitMs: number) {
  const retryAfter = waitMs / 1000;
  return tooManyRequests(
    'rate_limited',
    `Too many requests; retry in ${Math.ceil(retryAfter)} s`,
    retryAfter,
  );
}

const leaseKey = (userId: string, routeClass: RateLimitClass) => `${routeClass}:${userId}`;

/** What one process holds of one caller's budget for one class. */
interface Lease {
  /** Requests taken from the cache's bucket and not yet spent here. */
  left: number;
  /** When what is left lapses (epoch ms), and when the lease was taken. */
  until: number;
  takenAt: number;
  /** How many to take next time. */
  size: number;
  /** The cache refused until then (epoch ms): no request can fit before, so none is asked for. */
  refusedUntil: number;
  /**
   * The next lease, while the cache is being asked for it. Requests that find the lease spent
   * meanwhile wait for this one instead of each taking a lease of their own: those overwrote each
   * other, so the requests they took were lost to the caller, and a burst was refused far below
   * its budget (an environment runs many invocations at once, lambda-runtime.ts).
   */
  refill: Promise<Refill> | undefined;
}

/** How asking the cache for a lease went. */
type Refill = 'taken' | 'unavailable' | 'refused';

export interface LeaseOptions {
  /** Most requests one lease takes. @default 100 */
  readonly maxLease?: number;
  /** Share of a budget one lease may take at most. @default 1/20 */
  readonly maxShare?: number;
  /** How long taken requests stay spendable here (ms). @default 1000 */
  readonly leaseMs?: number;
  /** Callers and classes remembered per process. @default 10,000 */
  readonly capacity?: number;
}

/**
 * The limiter a warm function keeps: the same GCRA buckets in the cache, taken from in leases so
 * that a caller's steady stream of requests costs one cache round trip per lease, not per request.
 *
 * A lease is requests already taken from the caller's bucket, so every instance together never
 * admits more than the bucket does; what a lease takes counts at once, and what lapses unspent
 * (after `leaseMs`) is lost to the caller, never handed out twice. Leases start at one request and
 * double while they are spent within half their life, up to `maxShare` of the budget (a budget
 * of 5 is held one request at a time, exactly as `enforceRateLimit`), and halve when they lapse,
 * so a caller spread over many instances loses at most a few requests per instance. A refusal is
 * remembered until the wait the cache named: nothing returns requests to a bucket, so none could
 * fit before, and a flood of refused requests costs no cache call.
 * Measured reason (bench/README.md, issue #15): the limiter's round trip was half the cost of a
 * cached read (get-tweet hit 1.95x one GET with it, one GET of ~50 µs alone).
 */
export class RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly maxLease: number;
  private readonly maxShare: number;
  private readonly leaseMs: number;
  private readonly capacity: number;

  constructor(
    private readonly limits: RateLimits,
    options: LeaseOptions = {},
  ) {
    this.maxLease = options.maxLease ?? 100;
    this.maxShare = options.maxShare ?? 1 / 20;
    this.leaseMs = options.leaseMs ?? 1000;
    this.capacity = options.capacity ?? 10_000;
  }

  /**
   * Spends one request of `userId`'s `routeClass` budget, from this process's lease when it has
   * one. Throws 429 `rate_limited` with Retry-After when the budget is spent; fails open
   * ('unavailable') when the cache cannot answer.
   */
  async spend(
    deps: { readonly cache: Pick<Cache, 'run'> },
    userId: string,
    routeClass: RateLimitClass,
    nowMs: number = Date.now(),
  ): Promise<RateLimitOutcome> {
    const key = leaseKey(userId, routeClass);
    const lease = this.leases.get(key) ?? this.remember(key);
    for (;;) {
      if (nowMs < lease.refusedUntil) throw rateLimited(lease.refusedUntil - nowMs);
      if (lease.left > 0 && nowMs < lease.until) {
        lease.left--;
        return 'allowed';
      }
      lease.refill ??= this.refill(deps, lease, userId, routeClass, nowMs);
      const refill = await lease.refill;
      if (refill === 'unavailable') return 'unavailable';
      // Refused with no wait left: this request is refused, not asked again.
      if (refill === 'refused') throw rateLimited(Math.max(0, lease.refusedUntil - nowMs));
      // Taken: spent from it above, unless the requests that waited with this one spent it all.
    }
  }

  /** Asks the cache for the caller's next lease, sized by how the last one was spent. */
  private async refill(
    deps: { readonly cache: Pick<Cache, 'run'> },
    lease: Lease,
    userId: string,
    routeClass: RateLimitClass,
    nowMs: number,
  ): Promise<Refill> {
    const { limit } = this.limits[routeClass];
    const biggest = Math.max(1, Math.min(this.maxLease, Math.floor(limit * this.maxShare)));
    if (lease.left > 0) lease.size = Math.max(1, Math.floor(lease.size / 2));
    else if (lease.until > 0 && nowMs - lease.takenAt < this.leaseMs / 2) {
      lease.size = Math.min(biggest, lease.size * 2);
    }
    lease.size = Math.min(lease.size, biggest);
    try {
      const outcome = await take(deps, this.limits, userId, routeClass, nowMs, lease.size);
      if (outcome === undefined) return 'unavailable';
      if (!outcome.allowed) {
        lease.left = 0;
        lease.refusedUntil = nowMs + outcome.waitMs;
        return 'refused';
      }
      // Requests that lapsed unspent are not carried over: they were another second's budget.
      lease.left = outcome.taken;
      lease.takenAt = nowMs;
      lease.until = nowMs + this.leaseMs;
      return 'taken';
    } finally {
      lease.refill = undefined;
    }
  }

  /**
   * Whether `spend` would decide without the cache right now (a live lease, or a remembered
   * refusal): a route then needs no overlap of its first read with the limiter.
   */
  decidesLocally(userId: string, routeClass: RateLimitClass, nowMs: number = Date.now()): boolean {
    const lease = this.leases.get(leaseKey(userId, routeClass));
    if (lease === undefined) return false;
    return nowMs < lease.refusedUntil || (lease.left > 0 && nowMs < lease.until);
  }

  /** A fresh entry; past `capacity` the longest-held one is dropped (its unspent requests lapse). */
  private remember(key: string): Lease {
    if (this.leases.size >= this.capacity) {
      const oldest = this.leases.keys().next();
      if (oldest.done !== true) this.leases.delete(oldest.value);
    }
    const lease: Lease = {
      left: 0,
      until: 0,
      takenAt: 0,
      size: 1,
      refusedUntil: 0,
      refill: undefined,
    };
    this.leases.set(key, lease);
    return lease;
  }
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
