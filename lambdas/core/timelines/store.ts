/**
 * Home timelines in Redis: `tl:{user}` is a sorted set of tweet ids scored by creation time (ms).
 * Equal scores order by member, and tweet ids sort by time, so the set's order is the ids' order.
 *
 * Markers at score -inf tell a built timeline from a missing or half-built one:
 * - `built`: the timeline holds the newest entries (up to deps.timelineMaxEntries);
 * - `building:{token}`: a rebuild is under way; fanout already lands in the key;
 * - `floor:{score}`: the timeline was cut at its depth; older entries are read from DynamoDB.
 * Writers only ever add to timelines that exist, so a partial timeline is never taken for a full
 * one; a read that does not find `built` rebuilds from DynamoDB.
 *
 * Also the short-lived cache of the newest tweet ids of authors merged at read time (`recent:`).
 * Every call answers a cache failure as a miss, except the fanout's, which throw so that the
 * stream batch is retried.
 */
import { randomBytes } from 'node:crypto';
import type { CacheBatch, CacheScript } from '../cache-port';
import type { Deps } from '../ports';
import { followKeys, parseFollowGraph, type CachedFollowGraph } from '../follows/store-cache';
import { tweetTime, ULID_LENGTH } from '../ids';
import { TIMELINE_SENTINEL, timelineKeys } from './store-keys';
import { logger } from '../../platform/logger';
import { tombstoneTweetCommand } from '../tweets/store';

type CacheDeps = Pick<Deps, 'cache'>;

/** Short: a celebrity's new tweet must show within 2 s; the fanout also drops the entry. */
const RECENT_TTL_SECONDS = 2;

const TIMELINE_BUILDING_PREFIX = 'building:';
/**
 * `floor:{score}`: the timeline was cut at its depth, and holds every entry newer than that score
 * (ms) and none at or below it; a reader past its last entry goes on in DynamoDB. No floor: the
 * timeline holds every entry there is.
 */
const TIMELINE_FLOOR_PREFIX = 'floor:';
/** Home timelines not read for this long are evicted and rebuilt on the next read. */
const TIMELINE_TTL_SECONDS = 3 * 24 * 60 * 60;

/**
 * Lua shared by the timeline scripts: the markers (one ZRANGE, which also tells whether the key
 * exists: every timeline has one), the floor among them, and the trim to `max` entries that raises
 * it. Scores are compared as numbers (ms), never member strings (Lua compares those by locale).
 */
const TIMELINE_FLOOR_LUA = `
local function markers_of(key)
  return redis.call('ZRANGE', key, '-inf', '-inf', 'BYSCORE')
end
local function floor_in(markers)
  for _, member in ipairs(markers) do
    if string.sub(member, 1, ${TIMELINE_FLOOR_PREFIX.length}) == '${TIMELINE_FLOOR_PREFIX}' then
      return tonumber(string.sub(member, ${TIMELINE_FLOOR_PREFIX.length + 1})), member
    end
  end
  return nil, nil
end
local function raise_floor(key, score)
  local old, member = floor_in(markers_of(key))
  if old ~= nil and old >= tonumber(score) then return end
  if member ~= nil then redis.call('ZREM', key, member) end
  redis.call('ZADD', key, '-inf', '${TIMELINE_FLOOR_PREFIX}' .. score)
  redis.call('ZREMRANGEBYSCORE', key, '(-inf', score)
end
local function add_above(key, floor, from)
  for i = from, #ARGV, 2 do
    if floor == nil or tonumber(ARGV[i]) > floor then redis.call('ZADD', key, ARGV[i], ARGV[i + 1]) end
  end
end
local function trim(key, max, marker_count)
  local excess = redis.call('ZCARD', key) - marker_count - max
  if excess <= 0 then return end
  local cut = redis.call('ZRANGE', key, marker_count, marker_count + excess - 1, 'WITHSCORES')
  raise_floor(key, cut[#cut])
end
`;

/**
 * Adds entries to an existing home timeline (none at or below its floor) and trims it to the
 * newest `max` real entries. A missing timeline stays missing: a partial timeline must never look
 * complete, and the next read rebuilds it from DynamoDB. Single key, so it is cluster-safe.
 * KEYS[1] timeline; ARGV[1] max; ARGV[2..] score, member pairs.
 */
export const TIMELINE_ADD: CacheScript = {
  name: 'timelineAdd',
  lua: `${TIMELINE_FLOOR_LUA}
local markers = markers_of(KEYS[1])
if #markers == 0 then return 0 end
add_above(KEYS[1], floor_in(markers), 2)
trim(KEYS[1], tonumber(ARGV[1]), #markers)
return 1`,
  numberOfKeys: 1,
};

/**
 * Completes a rebuild started with a `building:{token}` marker: only if that marker is still there
 * (so a FLUSHALL, an eviction or an unfollow during the rebuild cannot leave a timeline that misses
 * tweets fanned out meanwhile, or holds an unfollowed author's), adds the entries, marks the
 * timeline built and trims it. A rebuild that read `max` entries may have left older ones unread:
 * its oldest score becomes the floor.
 * KEYS[1] timeline; ARGV[1] marker; ARGV[2] sentinel; ARGV[3] max; ARGV[4] ttl; ARGV[5..] pairs.
 */
const TIMELINE_FINISH_BUILD: CacheScript = {
  name: 'timelineFinishBuild',
  lua: `${TIMELINE_FLOOR_LUA}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end
add_above(KEYS[1], floor_in(markers_of(KEYS[1])), 5)
redis.call('ZADD', KEYS[1], '-inf', ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
trim(KEYS[1], tonumber(ARGV[3]), #markers_of(KEYS[1]))
local given = (#ARGV - 4) / 2
if given > 0 and given >= tonumber(ARGV[3]) then
  local lowest = ARGV[5]
  for i = 7, #ARGV, 2 do
    if tonumber(ARGV[i]) < tonumber(lowest) then lowest = ARGV[i] end
  end
  raise_floor(KEYS[1], lowest)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`,
  numberOfKeys: 1,
};

/**
 * Removes every entry of one author from a timeline: tweet ids end in `-{user_id}` after the
 * ULID (ULID_LENGTH characters), so the author is read from the id itself, with no DynamoDB read. A timeline
 * still being rebuilt is dropped instead: its rebuild may have read the author as followed, and
 * must not finish (the next read rebuilds it).
 * KEYS[1] timeline; ARGV[1] the author's user id; ARGV[2] the built sentinel.
 */
const TIMELINE_REMOVE_AUTHOR: CacheScript = {
  name: 'timelineRemoveAuthor',
  lua: `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then return redis.call('DEL', KEYS[1]) end
local suffix = '-' .. ARGV[1]
local removed = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if #member == ${ULID_LENGTH} + #suffix and string.sub(member, ${ULID_LENGTH + 1}) == suffix then
    removed = removed + redis.call('ZREM', KEYS[1], member)
  end
end
return removed`,
  numberOfKeys: 1,
};

/**
 * One page of a home timeline in one command. Both keys are the same user's and share a hash tag
 * (followKeys in ../follows/store-cache.ts), so the script runs in cluster mode (ElastiCache Serverless) without CROSSSLOT.
 * Ties at the cursor's score are returned whole, for
 * the client to filter by id (Lua string comparison depends on the server's locale).
 * KEYS[1] timeline; KEYS[2] companion key to GET; ARGV[1] sentinel; ARGV[2] ttl; ARGV[3] count;
 * ARGV[4] the cursor's score, or '' for the first page.
 * Returns {built (0/1), ties, entries below the cursor's score (or the newest), companion value,
 * floored (0/1): entries older than the timeline's last are in DynamoDB only}.
 */
const TIMELINE_PAGE: CacheScript = {
  name: 'timelinePage',
  lua: `${TIMELINE_FLOOR_LUA}
local markers = markers_of(KEYS[1])
local built = 0
for _, member in ipairs(markers) do
  if member == ARGV[1] then built = 1 end
end
local ties = {}
local rest
if ARGV[4] == '' then
  rest = redis.call('ZRANGE', KEYS[1], '+inf', '(-inf', 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[3])
else
  ties = redis.call('ZRANGE', KEYS[1], ARGV[4], ARGV[4], 'BYSCORE')
  rest = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[4], '(-inf', 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local floored = floor_in(markers) and 1 or 0
return {built, ties, rest, redis.call('GET', KEYS[2]), floored}`,
  numberOfKeys: 2,
};

function pairs(tweetIds: readonly string[]): (string | number)[] {
  return tweetIds.flatMap((id) => [tweetTime(id), id]);
}

/**
 * Timelines written per pipeline. Every command must finish within the client's short command
 * timeout, and Redis runs a pipeline's commands one after another, so huge fanouts go in chunks.
 */
const PIPELINE_CHUNK = 500;

export interface FanoutPacing {
  /** Most timelines written per second (CACHE_SIZING); 0: as fast as the cache answers. */
  readonly deliveriesPerSecond: number;
}

/**
 * How a chunk is retried: a throttled or timed-out chunk is sent again after a growing pause
 * (0.1, 0.2, 0.4, 0.8 s, each ±50 %), so a cache at its ECPU ceiling has time to catch up, and only
 * that chunk is repeated; the change fails (and its stream record is retried whole) only after
 * the last attempt. Re-adding an entry is a no-op, so a repeated chunk writes nothing twice.
 */
export const CHUNK_RETRY = { attempts: 5, firstDelayMs: 100 } as const;

/**
 * Chunks in flight at once when the fanout is unpaced: the client builds the next while Redis runs
 * the others (one at a time left both idle half the time); paced fanouts keep their schedule.
 */
export const UNPACED_CHUNKS_IN_FLIGHT = 3;

async function perTimeline(
  deps: CacheDeps,
  userIds: readonly string[],
  command: (batch: CacheBatch, key: string) => unknown,
  pacing: FanoutPacing = { deliveriesPerSecond: 0 },
): Promise<unknown[]> {
  const rate = pacing.deliveriesPerSecond;
  // Paced: chunks of a quarter second's deliveries, so the writes spread over each second.
  const chunk =
    rate > 0 ? Math.max(1, Math.min(PIPELINE_CHUNK, Math.floor(rate / 4))) : PIPELINE_CHUNK;
  const send = (i: number) =>
    deps.cache.batchOrThrow(
      (batch) => {
        for (const userId of userIds.slice(i, i + chunk)) {
          command(batch, timelineKeys.homeTimeline(userId));
        }
      },
      { attempts: CHUNK_RETRY.attempts, firstDelayMs: CHUNK_RETRY.firstDelayMs },
    );
  const starts: number[] = [];
  for (let i = 0; i < userIds.length; i += chunk) starts.push(i);
  const replies: unknown[][] = [];
  if (rate > 0) {
    const started = Date.now();
    for (const [n, i] of starts.entries()) {
      const due = started + (i / rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      replies[n] = await send(i);
    }
    return replies.flat();
  }
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < starts.length) {
      const n = next++;
      try {
        replies[n] = await send(starts[n]!);
      } catch (error) {
        failed = true; // no new chunks: the change fails and is retried whole
        throw error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(UNPACED_CHUNKS_IN_FLIGHT, starts.length) }, worker),
  );
  return replies.flat();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Adds tweets to each existing timeline among `userIds` (missing ones stay missing), trimmed to
 * the newest entries; one pipelined script call per timeline, in chunks paced to `pacing` and
 * each retried on its own (CHUNK_RETRY). Throws if a chunk still fails, so the fanout can report
 * the record for retry. Re-adding an entry is a no-op, so retries never
 * duplicate. Returns how many timelines existed and got the tweets.
 */
export async function addToTimelines(
  deps: CacheDeps,
  userIds: readonly string[],
  tweetIds: readonly string[],
  max: number,
  pacing?: FanoutPacing,
): Promise<number> {
  if (tweetIds.length === 0) return 0;
  const args = [max, ...pairs(tweetIds)];
  const replies = await perTimeline(
    deps,
    userIds,
    (batch, key) => batch.run(TIMELINE_ADD, [key], args),
    pacing,
  );
  return replies.filter((reply) => reply === 1).length;
}

/** Removes tweets from timelines; throws if Redis fails (the fanout retries). */
export async function removeFromTimelines(
  deps: CacheDeps,
  userIds: readonly string[],
  tweetIds: readonly string[],
): Promise<void> {
  if (tweetIds.length === 0) return;
  await perTimeline(deps, userIds, (batch, key) => batch.zrem(key, ...tweetIds));
}

/** Runs a throwing cache call for a request, which must not fail because of Redis: true if done. */
async function bestEffort(what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    logger.debug('cache skipped', {
      what,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/** Best-effort removal from one timeline (a request must not fail because of Redis). */
export async function removeFromTimeline(
  deps: CacheDeps,
  userId: string,
  tweetIds: readonly string[],
): Promise<void> {
  await bestEffort('timeline remove', () => removeFromTimelines(deps, [userId], tweetIds));
}

/** Best-effort add to one timeline, if it exists. False when Redis failed. */
export async function addToTimeline(
  deps: CacheDeps,
  userId: string,
  tweetIds: readonly string[],
  max: number,
): Promise<boolean> {
  return bestEffort('timeline add', () => addToTimelines(deps, [userId], tweetIds, max));
}

/**
 * Whether a user's home timeline is cached (built or being rebuilt); undefined when the cache
 * could not answer.
 */
export async function timelineExists(
  deps: CacheDeps,
  userId: string,
): Promise<boolean | undefined> {
  return deps.cache.exists('timeline exists', timelineKeys.homeTimeline(userId));
}

/**
 * Queues the removal of every entry of one author from a user's timeline (TIMELINE_REMOVE_AUTHOR),
 * on a batch of the caller's (the unfollow's cleanup, one round trip).
 */
export function queueRemoveAuthor(batch: CacheBatch, userId: string, author: string): void {
  batch.run(
    TIMELINE_REMOVE_AUTHOR,
    [timelineKeys.homeTimeline(userId)],
    [author, TIMELINE_SENTINEL],
  );
}

/**
 * A change's writes to its author's own caches, in one round trip: the author's own timeline (the
 * tweet added, or removed and its cached copy overwritten with a tombstone), and for an author
 * merged at read time their cached newest ids dropped. Throws on cache errors (the fanout retries).
 */
export async function updateAuthorCaches(
  deps: Pick<Deps, 'cache' | 'timelineMaxEntries'>,
  change: { readonly kind: 'insert' | 'remove'; readonly author: string; readonly tweetId: string },
  celebrity: boolean,
): Promise<void> {
  const { author, tweetId } = change;
  await deps.cache.batchOrThrow((own) => {
    if (change.kind === 'insert') {
      own.run(
        TIMELINE_ADD,
        [timelineKeys.homeTimeline(author)],
        [deps.timelineMaxEntries, tweetTime(tweetId), tweetId],
      );
    } else {
      own.zrem(timelineKeys.homeTimeline(author), tweetId);
      tombstoneTweetCommand(own, tweetId);
    }
    if (celebrity) own.del(timelineKeys.recentTweets(author));
  });
}

export interface StoredPage {
  /** False when the timeline is missing or half-built: the caller must rebuild it. */
  readonly built: boolean;
  /** Up to `count` tweet ids older than `before` (or the newest), newest first. */
  readonly tweetIds: string[];
  /** The user's cached follow graph (read in the same command); undefined when not cached. */
  readonly followGraph: CachedFollowGraph | undefined;
  /** The timeline was cut at its depth: entries older than its last one are in DynamoDB only. */
  readonly floored: boolean;
}

/**
 * Reads one page of a timeline with a single script call (one command, one reply: cheaper than a
 * pipeline for the hottest read): the `built` marker, the entries, an expiry refresh, and the
 * user's cached follow graph. Undefined when Redis is unavailable.
 */
export async function readStoredPage(
  deps: CacheDeps,
  userId: string,
  before: string | undefined,
  count: number,
): Promise<StoredPage | undefined> {
  const score = before === undefined ? '' : String(tweetTime(before));
  const reply = await deps.cache.run(
    'timeline page',
    TIMELINE_PAGE,
    [timelineKeys.homeTimeline(userId), followKeys.followGraph(userId)],
    [TIMELINE_SENTINEL, TIMELINE_TTL_SECONDS, count, score],
  );
  if (reply === undefined) return undefined;
  const [built, ties, rest, graph, floored] = reply as [
    number,
    string[],
    string[],
    string | null,
    number,
  ];
  // Entries with the cursor's exact score sort by id: those below it come first, newest first.
  const below = before === undefined ? [] : ties.filter((id) => id < before).reverse();
  return {
    built: built === 1,
    tweetIds: [...below, ...rest].slice(0, count),
    followGraph: parseFollowGraph(graph),
    floored: floored === 1,
  };
}

/**
 * Starts a rebuild: creates the key with a `building:{token}` marker first, so fanout lands in it
 * while DynamoDB is read. With `dropExisting`, a built but stale timeline is dropped first, so it
 * is not served as built meanwhile. Undefined when Redis is unavailable.
 */
export async function startBuild(
  deps: CacheDeps,
  userId: string,
  dropExisting = false,
): Promise<string | undefined> {
  const key = timelineKeys.homeTimeline(userId);
  const marker = TIMELINE_BUILDING_PREFIX + randomBytes(8).toString('hex');
  const done = await deps.cache.batch('timeline build start', (batch) => {
    if (dropExisting) batch.del(key);
    batch.zadd(key, '-inf', marker).expire(key, TIMELINE_TTL_SECONDS);
  });
  return done === undefined ? undefined : marker;
}

/** Completes a rebuild with the entries read from DynamoDB, if its marker survived. */
export async function finishBuild(
  deps: CacheDeps,
  userId: string,
  marker: string,
  tweetIds: readonly string[],
  max: number,
): Promise<void> {
  await deps.cache.batch('timeline build finish', (batch) =>
    batch.run(
      TIMELINE_FINISH_BUILD,
      [timelineKeys.homeTimeline(userId)],
      [marker, TIMELINE_SENTINEL, max, TIMELINE_TTL_SECONDS, ...pairs(tweetIds)],
    ),
  );
}

/**
 * The cached newest tweet ids of each author (merged at read time), in `authors` order; undefined
 * for an author not cached (or when the cache could not answer).
 */
export async function readRecentTweets(
  deps: CacheDeps,
  authors: readonly string[],
): Promise<(string[] | undefined)[]> {
  const cached = await deps.cache.getMany(
    'get recent',
    authors.map((author) => timelineKeys.recentTweets(author)),
  );
  return authors.map((_, index) => parseIdList(cached?.[index]));
}

/** Caches authors' newest tweet ids briefly (RECENT_TTL_SECONDS), in one round trip. */
export async function fillRecentTweets(
  deps: CacheDeps,
  fills: readonly (readonly [author: string, tweetIds: readonly string[]])[],
): Promise<void> {
  if (fills.length === 0) return;
  await deps.cache.batch('fill recent', (batch) => {
    for (const [author, tweetIds] of fills) {
      batch.set(timelineKeys.recentTweets(author), JSON.stringify(tweetIds), {
        ttl: { seconds: RECENT_TTL_SECONDS },
      });
    }
  });
}

function parseIdList(raw: string | null | undefined): string[] | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (Array.isArray(value) && value.every((id) => typeof id === 'string')) return value;
  } catch {
    // a miss
  }
  return undefined;
}

/**
 * Waits until the cache is connected, for at most `timeoutMs`: the fanout, whose failures are
 * retried, should not count a cold start's connection as one.
 */
export const whenTimelinesReachable = (deps: Pick<Deps, 'cache'>, timeoutMs: number) =>
  deps.cache.whenReady(timeoutMs);
