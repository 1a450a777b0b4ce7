/**
 * The one wiring module: each function's ports and settings, built once per process from its
 * access list in app/model.ts, so a function is handed only what it is granted (and a missing
 * grant or variable fails its cold start loudly). Entry files import this and a service, nothing
 * else of the platform. Its S3 half is wiring-s3.ts, apart only so that functions without S3
 * access never bundle the S3 SDK (test/infra/bundle.test.ts checks it).
 */
import {
  CACHE_SIZING,
  ENV,
  EVENT_FUNCTIONS,
  fanoutDeliveriesPerSecond,
  LIMITS,
  ROUTES,
  type FunctionSpec,
} from '../app/model';
import type { Cache } from './core/cache-port';
import type { Deps, Tables } from './core/ports';
import type { DocumentStore } from './platform/document-store';
import { cacheOver } from './platform/cache';
import { bucketName, cdnBaseUrl, dynamo, redis, tables } from './platform/clients';
import { intEnv } from './platform/config';

/** A function of the app model, by its id. */
export function functionSpec(id: string): FunctionSpec {
  const spec = [...ROUTES, ...EVENT_FUNCTIONS].find((fn) => fn.id === id);
  if (spec === undefined) throw new Error(`No function ${id} in app/model.ts`);
  return spec;
}

/** The cache port, for a function granted the cache (one per process). */
export function cacheFor(id: string): Cache {
  if (functionSpec(id).access.cache !== true) {
    throw new Error(`${id} has no cache access in app/model.ts`);
  }
  return (sharedCache ??= cacheOver(redis));
}
let sharedCache: Cache | undefined;

/** The table port, for a function granted a table or items of one (itemGrants). */
export function tablesFor(id: string): { readonly dynamo: DocumentStore; readonly tables: Tables } {
  const { access } = functionSpec(id);
  const granted =
    access.tweetsTable !== undefined ||
    access.metadataTable !== undefined ||
    (access.itemGrants?.length ?? 0) > 0;
  if (!granted) throw new Error(`${id} has no table access in app/model.ts`);
  return { dynamo, tables };
}

/** The media bucket's name, for a function granted any S3 access. */
export function bucketFor(id: string): string {
  const { access } = functionSpec(id);
  const granted =
    access.presignUploads === true ||
    access.processMedia === true ||
    access.publishMedia === true ||
    access.deleteMedia === true;
  if (!granted) throw new Error(`${id} has no bucket access in app/model.ts`);
  return bucketName();
}

/** The core's ports and settings for a function with table and cache access. */
export function functionDeps(id: string): Deps {
  const fanoutMaxFollowers = intEnv(ENV.fanoutMaxFollowers, LIMITS.fanoutMaxFollowersDefault);
  const timelineMaxEntries = intEnv(ENV.timelineMaxEntries, LIMITS.timelineMaxEntries);
  if (timelineMaxEntries < 1 || timelineMaxEntries > LIMITS.timelineMaxEntries) {
    throw new Error(`${ENV.timelineMaxEntries} must be 1 to ${LIMITS.timelineMaxEntries}`);
  }
  return {
    ...tablesFor(id),
    cache: cacheFor(id),
    // Read on use: functions that never render media (fanout, follows) need not carry it.
    get cdnBaseUrl() {
      return cdnBaseUrl();
    },
    fanoutMaxFollowers,
    fanoutDeliveriesPerSecond: intEnv(
      ENV.fanoutDeliveriesPerSecond,
      fanoutDeliveriesPerSecond(CACHE_SIZING.maxEcpuPerSecondDefault),
    ),
    timelineMaxEntries,
    maxFollowees: intEnv(ENV.maxFollowees, LIMITS.maxFolloweesDefault),
  };
}

/**
 * What every route's edge needs (lambdas/http/limit.ts: the rate limit and the caller's user
 * record): every route is granted the cache and its caller's profile (app/model.ts).
 */
export function routeEdgeDeps(): Pick<Deps, 'dynamo' | 'tables' | 'cache'> {
  const route = ROUTES[0]!;
  return { ...tablesFor(route.id), cache: cacheFor(route.id) };
}

/** The CDN origin, read on use. */
export const cdnBase = (): string => cdnBaseUrl();
