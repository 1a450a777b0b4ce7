/**
 * The cache as the stores see it: a narrow port over Redis/Valkey. Redis holds only what can be
 * rebuilt, so every method here answers a failure (Redis down, slow, or no cache configured for
 * the function) as a miss: `undefined`, never an error. The one exception is `batchOrThrow`, for
 * the fanout, whose failures are retried by its event source. The implementation over ioredis is
 * lambdas/platform/cache.ts; this file has no runtime code.
 *
 * Every command or script touches keys of one hash slot (ElastiCache Serverless is cluster mode).
 */

/** A Lua script owned by a store: a unique name, its source, and how many arguments are keys. */
export interface CacheScript {
  readonly name: string;
  readonly lua: string;
  readonly numberOfKeys: number;
}

/** How long a value lives: whole seconds (EX) or milliseconds (PX). */
export type CacheTtl = { readonly seconds: number } | { readonly ms: number };

export interface CacheSetOptions {
  readonly ttl: CacheTtl;
  /** Only when the key does not exist (NX). */
  readonly onlyIfAbsent?: boolean;
}

export type CacheArg = string | number;

/** Commands sent together in one round trip; results come back in order. */
export interface CacheBatch {
  get(key: string): this;
  set(key: string, value: string, options: CacheSetOptions): this;
  del(...keys: string[]): this;
  exists(key: string): this;
  expire(key: string, seconds: number): this;
  sadd(key: string, ...members: string[]): this;
  sismember(key: string, member: string): this;
  smembers(key: string): this;
  zadd(key: string, score: string | number, member: string): this;
  zrem(key: string, ...members: string[]): this;
  run(script: CacheScript, keys: readonly string[], args: readonly CacheArg[]): this;
}

export interface Cache {
  /** The value, `null` when absent, `undefined` when the cache could not answer. */
  get(what: string, key: string): Promise<string | null | undefined>;
  /** Several keys in one round trip (a batch of GETs: MGET is CROSSSLOT in cluster mode). */
  getMany(what: string, keys: readonly string[]): Promise<(string | null)[] | undefined>;
  /** True when written (false: NX found a value, or the cache could not answer). */
  set(what: string, key: string, value: string, options: CacheSetOptions): Promise<boolean>;
  /** How many keys were removed; undefined when the cache could not answer. */
  del(what: string, ...keys: string[]): Promise<number | undefined>;
  exists(what: string, key: string): Promise<boolean | undefined>;
  run(
    what: string,
    script: CacheScript,
    keys: readonly string[],
    args: readonly CacheArg[],
  ): Promise<unknown>;
  /** Each command's result, or undefined when the batch or any command in it failed. */
  batch(what: string, build: (batch: CacheBatch) => void): Promise<unknown[] | undefined>;
  /**
   * Like batch, but throws once `retry.attempts` attempts have failed (after growing pauses from
   * `retry.firstDelayMs`): for callers that must report a failure (the fanout). Every command sent
   * this way must be idempotent.
   */
  batchOrThrow(
    build: (batch: CacheBatch) => void,
    retry?: { readonly attempts: number; readonly firstDelayMs?: number },
  ): Promise<unknown[]>;
  /** Waits until connected, for at most `timeoutMs` (paths whose failures are retried). */
  whenReady(timeoutMs: number): Promise<void>;
}
