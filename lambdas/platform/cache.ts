/**
 * Redis access for the domain. Redis is only a cache: every call here turns an error or timeout
 * into "miss" / "skipped", so no request ever fails because of Redis. The client itself (short
 * command deadline, nothing queued while down) makes a dead Redis cost milliseconds, not the
 * Lambda timeout.
 */
import type { ChainableCommander, Result } from 'ioredis';
import type { Cache, CacheArg, CacheBatch, CacheScript } from '../core/cache-port';
import { connected, type CacheClient } from './clients';
import { logger } from './logger';

/** A Lua script: its source and how many of its arguments are keys. */
interface LuaScript {
  readonly lua: string;
  readonly numberOfKeys: number;
}

/** Members at score -inf mark a home timeline's state; they are never tweet ids. */
export const TIMELINE_SENTINEL = 'built';
export const TIMELINE_BUILDING_PREFIX = 'building:';
/**
 * `floor:{score}`: the timeline was cut at its depth, and holds every entry newer than that score
 * (ms) and none at or below it; a reader past its last entry goes on in DynamoDB. No floor: the
 * timeline holds every entry there is.
 */
export const TIMELINE_FLOOR_PREFIX = 'floor:';
/** Home timelines not read for this long are evicted and rebuilt on the next read. */
export const TIMELINE_TTL_SECONDS = 3 * 24 * 60 * 60;

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
const TIMELINE_ADD = {
  lua: `${TIMELINE_FLOOR_LUA}
local markers = markers_of(KEYS[1])
if #markers == 0 then return 0 end
add_above(KEYS[1], floor_in(markers), 2)
trim(KEYS[1], tonumber(ARGV[1]), #markers)
return 1`,
  numberOfKeys: 1,
} satisfies LuaScript;

/**
 * Completes a rebuild started with a `building:{token}` marker: only if that marker is still there
 * (so a FLUSHALL, an eviction or an unfollow during the rebuild cannot leave a timeline that misses
 * tweets fanned out meanwhile, or holds an unfollowed author's), adds the entries, marks the
 * timeline built and trims it. A rebuild that read `max` entries may have left older ones unread:
 * its oldest score becomes the floor.
 * KEYS[1] timeline; ARGV[1] marker; ARGV[2] sentinel; ARGV[3] max; ARGV[4] ttl; ARGV[5..] pairs.
 */
const TIMELINE_FINISH_BUILD = {
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
} satisfies LuaScript;

/**
 * Removes every entry of one author from a timeline: tweet ids end in `-{user_id}` after the
 * 26-character ULID, so the author is read from the id itself, with no DynamoDB read. A timeline
 * still being rebuilt is dropped instead: its rebuild may have read the author as followed, and
 * must not finish (the next read rebuilds it).
 * KEYS[1] timeline; ARGV[1] the author's user id; ARGV[2] the built sentinel.
 */
const TIMELINE_REMOVE_AUTHOR = {
  lua: `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then return redis.call('DEL', KEYS[1]) end
local suffix = '-' .. ARGV[1]
local removed = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if #member == 26 + #suffix and string.sub(member, 27) == suffix then
    removed = removed + redis.call('ZREM', KEYS[1], member)
  end
end
return removed`,
  numberOfKeys: 1,
} satisfies LuaScript;

/**
 * Caches a value loaded from DynamoDB only if the placeholder set before the load is still there:
 * a write that invalidated the key meanwhile (DEL), a newer load, or a restart of Redis voids it.
 * KEYS[1] key; ARGV[1] placeholder; ARGV[2] value; ARGV[3] ttl in seconds.
 */
const FILL_IF_PLACEHOLDER = {
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`,
  numberOfKeys: 1,
} satisfies LuaScript;

/**
 * Completes a follower-set rebuild started with a `#building:{token}` member, if that member is
 * still there (an unfollow or a flush meanwhile drops the set, and the next fanout rebuilds it).
 * KEYS[1] set; ARGV[1] marker; ARGV[2] built marker; ARGV[3] ttl; ARGV[4..] followers.
 */
const FOLLOWERS_FINISH_BUILD = {
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
} satisfies LuaScript;

/** Adds a follower to a cached follower set that exists (built or being built). */
const FOLLOWERS_ADD = {
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('SADD', KEYS[1], ARGV[1])`,
  numberOfKeys: 1,
} satisfies LuaScript;

/**
 * One page of a home timeline in one command. Both keys are the same user's and share a hash tag
 * (cache-keys.ts), so the script runs in cluster mode (ElastiCache Serverless) without CROSSSLOT.
 * Ties at the cursor's score are returned whole, for
 * the client to filter by id (Lua string comparison depends on the server's locale).
 * KEYS[1] timeline; KEYS[2] companion key to GET; ARGV[1] sentinel; ARGV[2] ttl; ARGV[3] count;
 * ARGV[4] the cursor's score, or '' for the first page.
 * Returns {built (0/1), ties, entries below the cursor's score (or the newest), companion value,
 * floored (0/1): entries older than the timeline's last are in DynamoDB only}.
 */
const TIMELINE_PAGE = {
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
} satisfies LuaScript;

/**
 * The scripts, by what they do. Each becomes a command of the client and its pipelines (ioredis
 * defineCommand): EVAL the first time on a connection, EVALSHA after, EVAL again on NOSCRIPT.
 */
const SCRIPTS = {
  timelineAdd: TIMELINE_ADD,
  timelineFinishBuild: TIMELINE_FINISH_BUILD,
  timelineRemoveAuthor: TIMELINE_REMOVE_AUTHOR,
  followersFinishBuild: FOLLOWERS_FINISH_BUILD,
  followersAdd: FOLLOWERS_ADD,
  timelinePage: TIMELINE_PAGE,
  fillIfPlaceholder: FILL_IF_PLACEHOLDER,
} as const;

type ScriptArg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    timelineAdd(key: string, ...args: ScriptArg[]): Result<number, Context>;
    timelineFinishBuild(key: string, ...args: ScriptArg[]): Result<number, Context>;
    timelineRemoveAuthor(key: string, ...args: ScriptArg[]): Result<number, Context>;
    followersFinishBuild(key: string, ...args: ScriptArg[]): Result<number, Context>;
    followersAdd(key: string, ...args: ScriptArg[]): Result<number, Context>;
    timelinePage(key: string, ...args: ScriptArg[]): Result<unknown[], Context>;
    fillIfPlaceholder(key: string, ...args: ScriptArg[]): Result<number, Context>;
  }
}

const scripted = new WeakSet<CacheClient>();

/** The client with the scripts defined on it (once). */
export function withScripts(redis: CacheClient): CacheClient {
  if (!scripted.has(redis)) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
    scripted.add(redis);
  }
  return redis;
}

/**
 * Waits until the client is connected, for at most `timeoutMs`. Nothing queues while a lost
 * connection is being re-opened (commands fail at once); paths that must not count that as a
 * failure (the fanout, whose failures are retried) wait here first.
 */
export async function awaitReady(redis: CacheClient, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

/** Runs one Redis call; any error is logged at debug level and becomes `undefined`. */
export async function tryCache<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    logger.debug('cache skipped', { what, error: errorMessage(error) });
    return undefined;
  }
}

/**
 * Runs one command (or script) on the client; any error becomes `undefined`. At a cold start it
 * first waits for the client's first connection (for at most a command's deadline), so the first
 * request is not a cache miss; after that a disconnected client fails at once.
 */
export async function tryCommand<T>(
  redis: CacheClient,
  what: string,
  call: (redis: CacheClient) => Promise<T>,
): Promise<T | undefined> {
  return tryCache(what, async () => {
    await connected(redis);
    return call(withScripts(redis));
  });
}

/**
 * Builds and executes a pipeline and returns each command's result,
 * or undefined when building or running it failed, or any command in it failed (Redis down,
 * timeout, script error, or no cache configured for this function).
 */
export async function tryPipeline(
  redis: CacheClient,
  what: string,
  build: (pipeline: ChainableCommander) => unknown,
): Promise<unknown[] | undefined> {
  const results = await tryCache(what, async () => {
    const pipeline = await readyPipeline(redis);
    build(pipeline);
    return pipeline.exec();
  });
  if (results === undefined || results === null) return undefined;
  const values: unknown[] = [];
  for (const [error, value] of results) {
    if (error) {
      logger.debug('cache command failed', { what, error: error.message });
      return undefined;
    }
    values.push(value);
  }
  return values;
}

/**
 * Like tryPipeline, but throws on failure: for callers that must report it (the fanout). A failed
 * attempt is retried (`retry.attempts` in all, after growing pauses from `retry.firstDelayMs`
 * when set), since one slow reply past the short command timeout should not fail a whole fanout;
 * every command sent this way must be idempotent.
 */
export async function execPipeline(
  redis: CacheClient,
  build: (pipeline: ChainableCommander) => unknown,
  retry: { readonly attempts: number; readonly firstDelayMs?: number } = { attempts: 3 },
): Promise<unknown[]> {
  const { attempts, firstDelayMs = 0 } = retry;
  for (let attempt = 1; ; attempt++) {
    try {
      const pipeline = await readyPipeline(redis);
      build(pipeline);
      const results = await pipeline.exec();
      if (results === null) throw new Error('Redis pipeline was discarded');
      return results.map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    } catch (error) {
      if (attempt >= attempts) throw error;
      logger.debug('cache pipeline retried', { attempt, error: errorMessage(error) });
      if (firstDelayMs > 0) {
        // Exponential, with jitter so retrying chunks of several fanouts do not line up.
        const delay = firstDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/**
 * A pipeline with the scripts defined, on a connected client only (after a cold start's first
 * connection). A Cluster's pipeline would otherwise wait for the cluster to connect, which with
 * Redis down would hold a request for seconds.
 *
 * A Cluster sends a pipeline to one node: its keys may hash to different slots as long as one
 * node serves them all, as the single ElastiCache Serverless endpoint (and the local one-node
 * cluster) does. Each command in it must still be single-slot.
 */
async function readyPipeline(redis: CacheClient): Promise<ChainableCommander> {
  await connected(redis);
  if (redis.status !== 'ready') throw new Error(`Redis is not connected (${redis.status})`);
  return withScripts(redis).pipeline();
}

/**
 * GETs several keys in one round trip. MGET is refused (CROSSSLOT) in cluster mode unless every
 * key hashes to one slot, so this is a pipeline of single-key GETs. Values in key order; undefined
 * when Redis is unavailable.
 */
export async function tryGetMany(
  redis: CacheClient,
  what: string,
  keys: readonly string[],
): Promise<(string | null)[] | undefined> {
  if (keys.length === 0) return [];
  const values = await tryPipeline(redis, what, (pipeline) => {
    for (const key of keys) pipeline.get(key);
  });
  return values as (string | null)[] | undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// The cache port (lambdas/core/cache-port.ts) over an ioredis Cluster
// ---------------------------------------------------------------------------------------------

const portScripts = new WeakMap<CacheClient, Set<string>>();

/** Defines a store's script on the client once (ioredis defineCommand: EVALSHA after the first). */
function scriptCommand(redis: CacheClient, script: CacheScript): string {
  let defined = portScripts.get(redis);
  if (defined === undefined) portScripts.set(redis, (defined = new Set()));
  if (!defined.has(script.name)) {
    redis.defineCommand(script.name, { lua: script.lua, numberOfKeys: script.numberOfKeys });
    defined.add(script.name);
  }
  return script.name;
}

type Commander = ChainableCommander & Record<string, (...args: CacheArg[]) => unknown>;

/** A CacheBatch that queues its commands on an ioredis pipeline. */
function batchOn(redis: CacheClient, pipeline: ChainableCommander): CacheBatch {
  const batch: CacheBatch = {
    get: (key) => (pipeline.get(key), batch),
    set: (key, value, { ttl, onlyIfAbsent }) => {
      const [unit, amount] =
        'seconds' in ttl ? (['EX', ttl.seconds] as const) : (['PX', ttl.ms] as const);
      if (onlyIfAbsent === true) pipeline.set(key, value, unit as 'EX', amount, 'NX');
      else pipeline.set(key, value, unit as 'EX', amount);
      return batch;
    },
    del: (...keys) => (pipeline.del(...keys), batch),
    exists: (key) => (pipeline.exists(key), batch),
    expire: (key, seconds) => (pipeline.expire(key, seconds), batch),
    sadd: (key, ...members) => (pipeline.sadd(key, ...members), batch),
    sismember: (key, member) => (pipeline.sismember(key, member), batch),
    smembers: (key) => (pipeline.smembers(key), batch),
    zadd: (key, score, member) => (pipeline.zadd(key, score, member), batch),
    run: (script, keys, args) => {
      const name = scriptCommand(redis, script);
      (pipeline as Commander)[name]!(...keys, ...args);
      return batch;
    },
  };
  return batch;
}

/**
 * The cache port over one ioredis client. The miss-on-error rule lives here, once: every method
 * but batchOrThrow answers a failure with undefined (or false), logged at debug level.
 */
export function cacheOver(redis: CacheClient): Cache {
  const batch: Cache['batch'] = async (what, build) =>
    tryPipeline(redis, what, (pipeline) => build(batchOn(redis, pipeline)));
  return {
    get: (what, key) => tryCommand(redis, what, (client) => client.get(key)),
    getMany: (what, keys) => tryGetMany(redis, what, keys),
    set: async (what, key, value, { ttl, onlyIfAbsent }) => {
      const [unit, amount] =
        'seconds' in ttl ? (['EX', ttl.seconds] as const) : (['PX', ttl.ms] as const);
      const reply = await tryCommand(redis, what, (client) =>
        onlyIfAbsent === true
          ? client.set(key, value, unit as 'EX', amount, 'NX')
          : client.set(key, value, unit as 'EX', amount),
      );
      return reply === 'OK';
    },
    del: (what, ...keys) => tryCommand(redis, what, (client) => client.del(...keys)),
    exists: async (what, key) => {
      const count = await tryCommand(redis, what, (client) => client.exists(key));
      return count === undefined ? undefined : count > 0;
    },
    run: (what, script, keys, args) =>
      tryCommand(redis, what, (client) =>
        (client as unknown as Record<string, (...a: CacheArg[]) => Promise<unknown>>)[
          scriptCommand(client, script)
        ]!(...keys, ...args),
      ),
    batch,
    batchOrThrow: (build, retry) =>
      execPipeline(redis, (pipeline) => build(batchOn(redis, pipeline)), retry),
    whenReady: (timeoutMs) => awaitReady(redis, timeoutMs),
  };
}
