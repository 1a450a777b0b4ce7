/**
 * Redis access for the domain. Redis is only a cache: every call here turns an error or timeout
 * into "miss" / "skipped", so no request ever fails because of Redis. The client itself (short
 * command deadline, nothing queued while down) makes a dead Redis cost milliseconds, not the
 * Lambda timeout.
 */
import type { ChainableCommander } from 'ioredis';
import type { Cache, CacheArg, CacheBatch, CacheScript } from '../core/cache-port';
import { connected, type CacheClient } from './clients';
import { logger } from './logger';

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
async function tryCache<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
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
    return call(redis);
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
async function execPipeline(
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
 * A pipeline on a connected client only (after a cold start's first
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
  return redis.pipeline();
}

/**
 * GETs several keys in one round trip. MGET is refused (CROSSSLOT) in cluster mode unless every
 * key hashes to one slot, so this is a pipeline of single-key GETs. Values in key order; undefined
 * when Redis is unavailable.
 */
async function tryGetMany(
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

/**
 * Records a batch's commands, to queue them on a pipeline afterwards: the batch's scripts must be
 * defined on the client before the pipeline is made, since an ioredis pipeline copies the client's
 * scripts when created (a script first defined after that is missing from it).
 */
function recordBatch(
  redis: CacheClient,
  build: (batch: CacheBatch) => void,
): (pipeline: ChainableCommander) => void {
  const steps: ((pipeline: Commander) => unknown)[] = [];
  const queue = (step: (pipeline: Commander) => unknown) => (steps.push(step), batch);
  const batch: CacheBatch = {
    get: (key) => queue((pipeline) => pipeline.get(key)),
    set: (key, value, { ttl, onlyIfAbsent }) => {
      const [unit, amount] =
        'seconds' in ttl ? (['EX', ttl.seconds] as const) : (['PX', ttl.ms] as const);
      return queue((pipeline) =>
        onlyIfAbsent === true
          ? pipeline.set(key, value, unit as 'EX', amount, 'NX')
          : pipeline.set(key, value, unit as 'EX', amount),
      );
    },
    del: (...keys) => queue((pipeline) => pipeline.del(...keys)),
    exists: (key) => queue((pipeline) => pipeline.exists(key)),
    expire: (key, seconds) => queue((pipeline) => pipeline.expire(key, seconds)),
    sadd: (key, ...members) => queue((pipeline) => pipeline.sadd(key, ...members)),
    sismember: (key, member) => queue((pipeline) => pipeline.sismember(key, member)),
    smembers: (key) => queue((pipeline) => pipeline.smembers(key)),
    zadd: (key, score, member) => queue((pipeline) => pipeline.zadd(key, score, member)),
    zrem: (key, ...members) => queue((pipeline) => pipeline.zrem(key, ...members)),
    run: (script, keys, args) => {
      const name = scriptCommand(redis, script);
      return queue((pipeline) => pipeline[name]!(...keys, ...args));
    },
  };
  build(batch);
  return (pipeline) => {
    for (const step of steps) step(pipeline as Commander);
  };
}

/**
 * The cache port over one ioredis client. The miss-on-error rule lives here, once: every method
 * but batchOrThrow answers a failure with undefined (or false), logged at debug level.
 */
export function cacheOver(redis: CacheClient): Cache {
  const batch: Cache['batch'] = async (what, build) =>
    tryPipeline(redis, what, recordBatch(redis, build));
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
    batchOrThrow: (build, retry) => execPipeline(redis, recordBatch(redis, build), retry),
    whenReady: (timeoutMs) => awaitReady(redis, timeoutMs),
  };
}
