/**
 * The follow graph's Redis keys and scripts: a user's cached follow graph (`graph:{user}`) and the
 * fanout's cached follower set of an author (`followers:user`). Both are rebuilt from DynamoDB on a
 * miss (store.ts); every call answers a cache failure as a miss, except the fanout's, which throw
 * so that the stream batch is retried.
 *
 * The follower set is kept correct the same way as timelines: a rebuild creates the set with a
 * `#building:{token}` marker before reading DynamoDB, follows add to any existing set, unfollows
 * drop the set, and the rebuild marks it `#built` only if its marker survived.
 */
import { randomBytes } from 'node:crypto';
import type { CacheBatch, CacheScript } from '../cache-port';
import type { Deps } from '../ports';
import { isUserId } from '../ids';

type CacheDeps = Pick<Deps, 'cache'>;

/**
 * The keys. `graph:{user}` carries the user id as a hash tag in literal braces, like the home
 * timeline `tl:{user}:…`: the timeline page script reads both in one command, and in cluster mode
 * (ElastiCache Serverless) a script may only touch keys of one hash slot. User ids cannot contain
 * braces.
 */
export const followKeys = {
  /**
   * JSON {followees, celebrities}: whom a user follows (null when too many to filter by), and which
   * of them are merged at read time (too many followers to fan out).
   */
  followGraph: (userId: string) => `graph:{${userId}}`,
  /** Set of an author's followers (plus `#` markers), so a fanout need not page DynamoDB. */
  followers: (userId: string) => `followers:${userId}`,
} as const;

/** How long a user's follow graph (followees, celebrities among them) is cached. */
export const FOLLOW_GRAPH_TTL_SECONDS = 60;
/** What the graph key holds while a load reads DynamoDB; never parses as a graph. */
const GRAPH_LOADING_PREFIX = 'loading:';

const FOLLOWERS_BUILT = '#built';
const FOLLOWERS_BUILDING = '#building:';
export const FOLLOWER_SET_TTL_SECONDS = 15 * 60;

/**
 * Caches a value loaded from DynamoDB only if the placeholder set before the load is still there:
 * a write that invalidated the key meanwhile (DEL), a newer load, or a restart of Redis voids it.
 * KEYS[1] key; ARGV[1] placeholder; ARGV[2] value; ARGV[3] ttl in seconds.
 */
const FILL_IF_PLACEHOLDER: CacheScript = {
  name: 'fillIfPlaceholder',
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`,
  numberOfKeys: 1,
};

/**
 * Completes a follower-set rebuild started with a `#building:{token}` member, if that member is
 * still there (an unfollow or a flush meanwhile drops the set, and the next fanout rebuilds it).
 * KEYS[1] set; ARGV[1] marker; ARGV[2] built marker; ARGV[3] ttl; ARGV[4..] followers.
 */
const FOLLOWERS_FINISH_BUILD: CacheScript = {
  name: 'followersFinishBuild',
  lua: `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 4, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`,
  numberOfKeys: 1,
};

/** Adds a follower to a cached follower set that exists (built or being built). */
const FOLLOWERS_ADD: CacheScript = {
  name: 'followersAdd',
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('SADD', KEYS[1], ARGV[1])`,
  numberOfKeys: 1,
};

/** The cached form: followees is null when the user follows too many to filter entries by. */
export interface CachedFollowGraph {
  readonly followees: string[] | null;
  readonly celebrities: string[];
}

/** Parses a cached follow graph; anything malformed counts as a miss. */
export function parseFollowGraph(raw: string | null | undefined): CachedFollowGraph | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<CachedFollowGraph> | null;
    const { followees, celebrities } = value ?? {};
    const validList = (list: unknown) => Array.isArray(list) && list.every(isUserId);
    if ((followees === null || validList(followees)) && validList(celebrities)) {
      return { followees: followees ?? null, celebrities: celebrities ?? [] };
    }
  } catch {
    // fall through: a miss
  }
  return undefined;
}

/**
 * Puts a fresh placeholder in the graph key before a load reads DynamoDB. The placeholder to fill
 * with, or undefined when the cache could not answer (then nothing is filled).
 */
export async function placeFollowGraphPlaceholder(
  deps: CacheDeps,
  userId: string,
): Promise<string | undefined> {
  const placeholder = GRAPH_LOADING_PREFIX + randomBytes(8).toString('hex');
  const placed = await deps.cache.set(
    'follow graph placeholder',
    followKeys.followGraph(userId),
    placeholder,
    { ttl: { seconds: FOLLOW_GRAPH_TTL_SECONDS } },
  );
  return placed ? placeholder : undefined;
}

/** Caches a loaded graph if the load's placeholder is still there (FILL_IF_PLACEHOLDER). */
export async function fillFollowGraph(
  deps: CacheDeps,
  userId: string,
  placeholder: string,
  graph: CachedFollowGraph,
): Promise<void> {
  await deps.cache.run(
    'cache follow graph',
    FILL_IF_PLACEHOLDER,
    [followKeys.followGraph(userId)],
    [placeholder, JSON.stringify(graph), FOLLOW_GRAPH_TTL_SECONDS],
  );
}

/**
 * After a follow, in one round trip: drops the follower's cached graph and adds them to the
 * followee's follower set if it exists. False when the cache could not answer.
 */
export async function recordFollowInCache(
  deps: CacheDeps,
  userId: string,
  followee: string,
): Promise<boolean> {
  const done = await deps.cache.batch('follow caches', (batch) =>
    batch
      .del(followKeys.followGraph(userId))
      .run(FOLLOWERS_ADD, [followKeys.followers(followee)], [userId]),
  );
  return done !== undefined;
}

/**
 * After an unfollow, in one round trip: drops the follower's cached graph and the followee's
 * follower set (dropped, not edited: a rebuild racing this unfollow then cannot put the follower
 * back), plus whatever `alsoQueue` adds (the caller's home-timeline cleanup). False when the cache
 * could not answer.
 */
export async function recordUnfollowInCache(
  deps: CacheDeps,
  userId: string,
  followee: string,
  alsoQueue: (batch: CacheBatch) => void,
): Promise<boolean> {
  const done = await deps.cache.batch('unfollow cleanup', (batch) => {
    batch.del(followKeys.followGraph(userId)).del(followKeys.followers(followee));
    alsoQueue(batch);
  });
  return done !== undefined;
}

/**
 * The cached followers of an author, or undefined when the set is missing or half-built. Throws on
 * cache errors (the fanout is retried).
 */
export async function cachedFollowers(
  deps: CacheDeps,
  author: string,
): Promise<string[] | undefined> {
  const key = followKeys.followers(author);
  const [built, members] = (await deps.cache.batchOrThrow((batch) =>
    batch.sismember(key, FOLLOWERS_BUILT).smembers(key),
  )) as [number, string[]];
  if (built !== 1) return undefined;
  return members.filter((member) => !member.startsWith('#'));
}

/**
 * Starts a follower-set rebuild: a `#building:{token}` marker first (a wrong set is dropped before,
 * since its stale members must go, which also voids any rebuild under way). Returns the marker.
 * Throws on cache errors.
 */
export async function startFollowerSetBuild(
  deps: CacheDeps,
  author: string,
  dropExisting: boolean,
): Promise<string> {
  const key = followKeys.followers(author);
  const marker = FOLLOWERS_BUILDING + randomBytes(8).toString('hex');
  await deps.cache.batchOrThrow((batch) => {
    if (dropExisting) batch.del(key);
    batch.sadd(key, marker).expire(key, FOLLOWER_SET_TTL_SECONDS);
  });
  return marker;
}

/** Completes a follower-set rebuild if its marker survived. Throws on cache errors. */
export async function finishFollowerSetBuild(
  deps: CacheDeps,
  author: string,
  marker: string,
  followerIds: readonly string[],
): Promise<void> {
  await deps.cache.batchOrThrow((batch) =>
    batch.run(
      FOLLOWERS_FINISH_BUILD,
      [followKeys.followers(author)],
      [marker, FOLLOWERS_BUILT, FOLLOWER_SET_TTL_SECONDS, ...followerIds],
    ),
  );
}
