/**
 * The fanout's view of "who follows this author": a Redis set rebuilt from DynamoDB on a miss, so
 * a fanout to 10,000 followers is one SMEMBERS, not pages of DynamoDB reads.
 *
 * Kept correct the same way as timelines: a rebuild creates the set with a `#building:{token}`
 * marker before reading DynamoDB, follows add to any existing set, unfollows drop the set, and the
 * rebuild marks it `#built` only if its marker survived. Its lifetime is fixed (not refreshed), which
 * bounds the damage of a follow whose Redis write was lost to a blip.
 */
import { randomBytes } from 'node:crypto';
import type { CacheClient } from '../shared/clients';
import { cacheKeys } from './cache-keys';
import { execPipeline } from './cache';
import type { Deps } from './deps';
import { followers, isCelebrity } from './follows';

const BUILT = '#built';
const BUILDING = '#building:';
export const FOLLOWER_SET_TTL_SECONDS = 15 * 60;

/** The cached followers, or undefined when the set is missing or half-built. Throws on Redis errors. */
async function cachedFollowers(redis: CacheClient, author: string): Promise<string[] | undefined> {
  const key = cacheKeys.followers(author);
  const [built, members] = (await execPipeline(redis, (pipeline) =>
    pipeline.sismember(key, BUILT).smembers(key),
  )) as [number, string[]];
  if (built !== 1) return undefined;
  return members.filter((member) => !member.startsWith('#'));
}

/**
 * Followers to fan an author's tweet out to, or 'celebrity' when the author has too many (their
 * tweets are merged at read time). Throws if Redis fails, so the fanout is retried.
 */
export async function fanoutFollowers(deps: Deps, author: string): Promise<string[] | 'celebrity'> {
  const cached = await cachedFollowers(deps.redis, author);
  if (cached !== undefined) {
    return cached.length > deps.fanoutMaxFollowers ? 'celebrity' : cached;
  }
  if (await isCelebrity(deps, author)) return 'celebrity';
  const key = cacheKeys.followers(author);
  const marker = BUILDING + randomBytes(8).toString('hex');
  await execPipeline(deps.redis, (pipeline) =>
    pipeline.sadd(key, marker).expire(key, FOLLOWER_SET_TTL_SECONDS),
  );
  const list = await followers(deps, author);
  await execPipeline(deps.redis, (pipeline) =>
    pipeline.chirpFollowersFinishBuild(key, marker, BUILT, FOLLOWER_SET_TTL_SECONDS, ...list),
  );
  return list;
}
