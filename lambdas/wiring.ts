/**
 * The domain's dependencies built from the module-scope clients and configuration, once per
 * process. Only entry files import this; a missing variable fails the cold start loudly.
 */
import { CACHE_SIZING, ENV, fanoutDeliveriesPerSecond, LIMITS } from '../app/model';
import { cdnBaseUrl, dynamo, redis, tables } from './platform/clients';
import { cacheOver } from './platform/cache';
import { intEnv } from './platform/config';
import type { Deps } from './core/ports';

export function productionDeps(): Deps {
  const fanoutMaxFollowers = intEnv(ENV.fanoutMaxFollowers, LIMITS.fanoutMaxFollowersDefault);
  const timelineMaxEntries = intEnv(ENV.timelineMaxEntries, LIMITS.timelineMaxEntries);
  if (timelineMaxEntries < 1 || timelineMaxEntries > LIMITS.timelineMaxEntries) {
    throw new Error(`${ENV.timelineMaxEntries} must be 1 to ${LIMITS.timelineMaxEntries}`);
  }
  return {
    dynamo,
    redis,
    cache: cacheOver(redis),
    tables,
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
