/**
 * Shared test harness for the domain and handler tests: deps built on the real local services,
 * payload-2.0 events like API Gateway's, unique user ids, and a Redis that is down.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dynamo, redis, s3, tables } from '../../lambdas/shared/clients';
import type { Deps, UploadDeps } from '../../lambdas/domain/deps';
import type { HttpResult } from '../../lambdas/shared/http';

export { httpEvent, type EventOptions } from './harness-events';
import { LIMITS } from '../../app/model';
import { awaitReady } from '../../lambdas/domain/cache';

export const CDN = process.env.CDN_BASE_URL ?? 'https://cdn.chirp.test';

const opened: Redis[] = [];
// The shared client has no offline queue: let it connect before tests use it directly.
beforeAll(() => awaitReady(redis, 10_000));
// Every test file that imports the harness closes its Redis connections, so Jest can exit.
afterAll(() => {
  for (const client of opened) client.disconnect();
  redis.disconnect();
});

export function testDeps(overrides: Partial<Deps> = {}): Deps {
  return {
    dynamo,
    redis,
    tables: { tweets: tables.tweets, metadata: tables.metadata },
    cdnBaseUrl: CDN,
    fanoutMaxFollowers: LIMITS.fanoutMaxFollowersDefault,
    ...overrides,
  };
}

export function uploadDeps(): UploadDeps {
  return { dynamo, s3, tables, bucket: process.env.MEDIA_BUCKET ?? '' };
}

/** A Redis client like the production one, pointed at a port where nothing listens. */
export function deadRedis(): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port: 1,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 150,
    connectTimeout: 200,
    retryStrategy: () => 2000,
  });
  client.on('error', () => undefined);
  opened.push(client);
  return client;
}

/** A fresh user id, unique per test run, so tests never see each other's data. */
export function newUser(prefix = 'u'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
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
    headers: (result.headers ?? {}) as Record<string, unknown>,
  };
}

export function errorCode(result: ParsedResult): unknown {
  return (result.body.error as { code?: unknown } | undefined)?.code;
}

/**
 * A client like the production one on its own logical database, so a test owns every timeline
 * in it: the stack's own stream pump writes to database 0 and cannot interfere.
 */
export function isolatedRedis(db: number): Redis {
  const url = process.env.REDIS_URL ?? '';
  const client = new Redis(url, {
    db,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
  });
  opened.push(client);
  return client;
}
