/**
 * The caller of a route, once their rate limit allows the request and their user record exists:
 * every route entry starts here, before reading its input, so a limited request writes nothing.
 * The limiter is a warm function's `RateLimiter`: most requests spend from a lease it took from
 * the caller's bucket and make no cache call. When it must ask the cache, a read route sends its
 * first cache read (which writes nothing) in the same tick (`limitedRead`): the two round trips
 * overlap instead of adding up.
 * The route's class comes from the app model by the event's route key; limits from RATE_LIMITS
 * over the model's defaults. A user exists from their first authenticated call (any route): it
 * creates their profile with a generated handle; a warm function remembers who it has ensured.
 */
import { ENV, METRICS, ROUTES, type RateLimitClass } from '../../app/model';
import { KnownUsers } from '../core/users/users';
import { RateLimiter, parseRateLimits } from '../core/limits/service';
import { routeEdgeDeps } from '../wiring';
import { optionalEnv } from '../platform/config';
import { countMetric } from '../platform/metrics';
import { callerId, type HttpEvent } from '../platform/http';

const limiter = new RateLimiter(parseRateLimits(optionalEnv(ENV.rateLimits)));
const deps = routeEdgeDeps();
const classByRouteKey = new Map<string, RateLimitClass>(
  ROUTES.map((route) => [`${route.method} ${route.path}`, route.rateLimit]),
);
/** ~100 bytes each: at most ~1 MB of a function's memory. */
const callers = new KnownUsers(10_000);

// Every routed event carries its route key; the method decides only if one ever did not.
const routeClassOf = (event: HttpEvent): RateLimitClass =>
  classByRouteKey.get(event.routeKey) ??
  (event.requestContext.http.method === 'GET' ? 'read' : 'write');

export async function limitedCaller(event: HttpEvent): Promise<string> {
  const userId = callerId(event);
  try {
    const outcome = await limiter.spend(deps, userId, routeClassOf(event));
    if (outcome === 'unavailable') countMetric(METRICS.names.rateLimiterUnavailable);
  } catch (error) {
    countMetric(METRICS.names.rateLimited);
    throw error;
  }
  await callers.ensure(deps, userId);
  return userId;
}

/**
 * `limitedCaller` with the route's first read sent in the same tick as the limiter. `firstRead`
 * must write nothing (a cache GET): its result is handed back only once the caller is allowed and
 * ensured, so whatever the route does with it (a fill on a miss) comes after the limiter; a
 * limited caller gets the 429 and the read's result, or its error, is dropped.
 */
export async function limitedRead<T>(
  event: HttpEvent,
  firstRead: (userId: string) => Promise<T>,
): Promise<{ readonly userId: string; readonly first: T }> {
  const userId = callerId(event);
  // Decided from this process's lease (most requests): no cache call to overlap with.
  if (limiter.decidesLocally(userId, routeClassOf(event))) {
    await limitedCaller(event);
    return { userId, first: await firstRead(userId) };
  }
  const caller = limitedCaller(event);
  const read = Promise.resolve().then(() => firstRead(userId));
  // Settled below only if the caller is allowed: mark it handled so a 429 leaves no stray rejection.
  read.catch(() => undefined);
  await caller;
  return { userId, first: await read };
}
