/**
 * Shared test harness for the domain and handler tests: deps built on the real local services,
 * payload-2.0 events like API Gateway's, unique user ids, and a Redis that is down.
 */
import { randomBytes } from 'node:crypto';
import {
  createCacheClient,
  dynamo,
  redis,
  tables,
  type CacheClient,
} from '../../lambdas/platform/clients';
import { s3 } from '../../lambdas/platform/s3-client';
import { silentLog } from '../../local/log';
import { freePort } from '../../local/ports';
import { RedisServer } from '../../local/redis-server';
import type { Deps, UploadDeps } from '../../lambdas/core/ports';
import type { HttpResult } from '../../lambdas/platform/http';

export { httpEvent, type EventOptions } from './harness-events';
import { LIMITS } from '../../app/model';
import { awaitReady, cacheOver } from '../../lambdas/platform/cache';
import { ensureProfile } from '../../lambdas/core/users/users';
import { timelineKeys, tweetIdOfMember } from '../../lambdas/core/timelines/store-keys';

export const CDN = process.env.CDN_BASE_URL ?? 'https://cdn.chirp.test';

const opened: CacheClient[] = [];
const servers: RedisServer[] = [];
// Let the shared client connect before tests use it directly (its first connection holds
// commands only up to their deadline).
beforeAll(() => awaitReady(redis, 10_000));
// Every test file that imports the harness closes the Redis connections and servers it made, so
// Jest can exit (test/support/close-clients.ts closes the shared `redis`).
afterAll(async () => {
  for (const client of opened) client.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
});

/** Deps on the local services; `redis` (a client) becomes the cache port the stores take. */
export function testDeps(overrides: Partial<Deps> & { readonly redis?: CacheClient } = {}): Deps {
  const { redis: client = redis, ...rest } = overrides;
  return {
    dynamo,
    cache: cacheOver(client),
    tables: { tweets: tables.tweets, metadata: tables.metadata },
    cdnBaseUrl: CDN,
    fanoutMaxFollowers: LIMITS.fanoutMaxFollowersDefault,
    timelineMaxEntries: LIMITS.timelineMaxEntries,
    ...rest,
  };
}

export function uploadDeps(): UploadDeps {
  return { dynamo, s3, tables, bucket: process.env.MEDIA_BUCKET ?? '' };
}

/** A Redis client built like the production one, pointed at a port where nothing listens. */
export function deadRedis(): CacheClient {
  const client = createCacheClient('redis://127.0.0.1:1');
  opened.push(client);
  return client;
}

/** A fresh user id, unique per test run, so tests never see each other's data. */
export function newUser(prefix = 'u'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/**
 * A fresh user who has called the API (their profile exists, as the route wrapper makes it on a
 * first call): only such users can be followed.
 */
export async function existingUser(prefix = 'u'): Promise<string> {
  const userId = newUser(prefix);
  await ensureProfile(testDeps(), userId);
  return userId;
}

export interface ParsedResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, unknown>;
}

export function parse(result: HttpResult): ParsedResult {
  const text = typeof result.body === 'string' ? result.body : '';
  return {
    status: result.statusCode ?? 0,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: result.headers ?? {},
  };
}

export function errorCode(result: ParsedResult): unknown {
  return (result.body.error as { code?: unknown } | undefined)?.code;
}

/**
 * A redis-server of the calling test file's own (a one-node cluster like the stack's: cluster mode
 * has no SELECT, so no logical databases) and a client built like the production one, connected.
 * The test owns every key in it, so the stack's own stream pump cannot interfere, and it may flush.
 */
export async function isolatedRedis(
  options: { readonly commandTimeoutMs?: number } = {},
): Promise<CacheClient> {
  const server = new RedisServer(await freePort(), silentLog);
  servers.push(server);
  await server.start();
  const client = createCacheClient(server.url, {
    commandTimeoutMs: options.commandTimeoutMs ?? 1000,
  });
  opened.push(client);
  await awaitReady(client, 10_000);
  if (client.status !== 'ready')
    throw new Error(`private redis-server not ready: ${client.status}`);
  return client;
}

/**
 * A home timeline read whole, as one list: its markers, then every entry oldest first (chunk by
 * chunk, in the index's order, so a chunk out of order shows as entries out of order).
 */
export async function storedTimeline(redis: CacheClient, user: string): Promise<string[]> {
  const index = timelineKeys.homeTimeline(user);
  const markers = (await redis.call('ZRANGE', index, '-inf', '-inf', 'BYSCORE')) as string[];
  const entries: string[] = [];
  for (const chunk of await timelineChunks(redis, user)) {
    const members = (await redis.call('ZRANGE', chunk, 0, -1)) as string[];
    entries.push(...members.map(tweetIdOfMember));
  }
  return [...markers, ...entries];
}

/** The keys of a home timeline's chunks, oldest first, as its index lists them. */
export async function timelineChunks(redis: CacheClient, user: string): Promise<string[]> {
  const ids = (await redis.call(
    'ZRANGE',
    timelineKeys.homeTimeline(user),
    '(0',
    '+inf',
    'BYSCORE',
  )) as string[];
  return ids.map((id) => timelineKeys.timelineChunk(user, id));
}
