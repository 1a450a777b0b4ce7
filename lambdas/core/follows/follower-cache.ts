/**
 * The fanout's view of "who follows this author": a Redis set rebuilt from DynamoDB on a miss, so
 * a fanout to 10,000 followers is one SMEMBERS, not pages of DynamoDB reads.
 *
 * Kept correct the same way as timelines: a rebuild creates the set with a `#building:{token}`
 * marker before reading DynamoDB, follows add to any existing set, unfollows drop the set, and the
 * rebuild marks it `#built` only if its marker survived.
 *
 * A follow or unfollow whose Redis write was lost to a blip (while the set survived) would leave it
 * wrong, so every use checks its size against the author's follower_count in DynamoDB (one strongly
 * consistent GetItem; the follow transaction changes the edges and the count together) and rebuilds
 * it on a mismatch. Residual: a lost add and a lost drop of the same author's set cancel out in the
 * count; the fixed (never refreshed) 15-minute lifetime bounds that.
 */
import { randomBytes } from 'node:crypto';
import type { CacheClient } from '../../platform/clients';
import { cacheKeys } from '../cache-keys';
import { execPipeline } from '../../platform/cache';
import type { Deps } from '../ports';
import { followerCount, followers } from './service';

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
  const [cached, count] = await Promise.all([
    cachedFollowers(deps.redis, author),
    followerCount(deps, author),
  ]);
  if (count > deps.fanoutMaxFollowers) return 'celebrity';
  if (cached !== undefined && cached.length === count) return cached;
  // Missing, half-built, or disagreeing with DynamoDB: rebuild. A wrong set is dropped first (its
  // stale members must go), which also voids any rebuild under way.
  const key = cacheKeys.followers(author);
  const marker = BUILDING + randomBytes(8).toString('hex');
  await execPipeline(deps.redis, (pipeline) => {
    if (cached !== undefined) pipeline.del(key);
    pipeline.sadd(key, marker).expire(key, FOLLOWER_SET_TTL_SECONDS);
  });
  const list = await followers(deps, author);
  await execPipeline(deps.redis, (pipeline) =>
    pipeline.followersFinishBuild(key, marker, BUILT, FOLLOWER_SET_TTL_SECONDS, ...list),
  );
  return list;
}
