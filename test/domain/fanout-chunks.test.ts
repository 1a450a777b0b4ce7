/**
 * The fanout's writes against a cache at its ECPU ceiling, on a real redis-server of this file's
 * own: a chunk that stalls past the client's command timeout (forced with CLIENT PAUSE, which holds
 * every write as a throttled ElastiCache Serverless holds it) is sent again on its own, after a
 * pause, and the change completes without its other chunks being repeated; and deliveries keep to
 * the configured pace (CACHE_SIZING).
 */
import { Redis } from 'ioredis';
import { LIMITS } from '../../app/model';
import {
  TIMELINE_SENTINEL,
  timelineKeys,
  timelineMember,
} from '../../lambdas/core/timelines/store-keys';
import { cacheOver } from '../../lambdas/platform/cache';
import { newTweetId } from '../../lambdas/core/ids';
import {
  addToTimelines,
  CHUNK_RETRY,
  UNPACED_CHUNKS_IN_FLIGHT,
} from '../../lambdas/core/timelines/store';
import type { CacheClient } from '../../lambdas/platform/clients';
import { isolatedRedis } from './harness';

const TIMELINES = 1500;
const users = Array.from({ length: TIMELINES }, (_, i) => `chunk-reader-${i}`);
let redis: CacheClient;
let admin: Redis;

beforeAll(async () => {
  // The production command timeout (150 ms), which a stalled chunk runs into.
  redis = await isolatedRedis({ commandTimeoutMs: 150 });
  const node = redis.nodes('master')[0]!;
  admin = new Redis({ host: node.options.host, port: node.options.port });
  for (let i = 0; i < users.length; i += 500) {
    const pipeline = admin.pipeline();
    for (const user of users.slice(i, i + 500)) {
      pipeline.zadd(timelineKeys.homeTimeline(user), '-inf', TIMELINE_SENTINEL);
    }
    await pipeline.exec();
  }
  // Loads the script, so the counts below are EVALSHA calls only.
  await addToTimelines(
    { cache: cacheOver(redis) },
    users.slice(0, 1),
    [newTweetId('author', Date.now() - 60_000)],
    800,
  );
});
afterAll(() => admin.disconnect());

async function scriptCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

async function holding(tweetId: string): Promise<number> {
  const pipeline = admin.pipeline();
  // Each timeline was built empty, so its few entries are all in its first chunk.
  for (const user of users)
    pipeline.zscore(timelineKeys.timelineChunk(user, 1), timelineMember(tweetId));
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter(([, score]) => score !== null).length;
}

describe('fanout chunks', () => {
  it('retries only the chunk the cache stalled, not the whole change', async () => {
    const tweetId = newTweetId('author', Date.now() - 30_000);
    // 1,000 deliveries/s: chunks of 250, so 6 chunks. Even 4 repeats of one chunk (1,000 calls)
    // stay below one repeat of the whole change (1,500), whatever the machine's load.
    const chunk = 250;
    await admin.config('RESETSTAT');
    // Every write waits 700 ms: the first chunk's attempts time out (150 ms) until it ends; three
    // attempts back to back (the old retry) all time out within it.
    await admin.call('CLIENT', 'PAUSE', '700', 'WRITE');

    const delivered = await addToTimelines(
      { cache: cacheOver(redis) },
      users,
      [tweetId],
      LIMITS.timelineMaxEntries,
      {
        deliveriesPerSecond: 1000,
      },
    );

    expect(delivered).toBe(TIMELINES);
    expect(await holding(tweetId)).toBe(TIMELINES);
    // Redis ran the stalled attempts too, once the pause ended: each one is a whole chunk.
    const calls = await scriptCalls();
    const repeats = (calls - TIMELINES) / chunk;
    expect(Number.isInteger(repeats)).toBe(true);
    expect(repeats).toBeGreaterThanOrEqual(1);
    expect(repeats).toBeLessThanOrEqual(CHUNK_RETRY.attempts - 1);
    // Retrying the whole change would have sent every chunk again.
    expect(calls).toBeLessThan(2 * TIMELINES);
  });

  it('keeps to the configured deliveries per second', async () => {
    const tweetId = newTweetId('author', Date.now() - 20_000);
    const started = Date.now();
    // 1,000 a second: chunks of 250 due at 0, 0.25, ... 1.25 s.
    await addToTimelines({ cache: cacheOver(redis) }, users, [tweetId], LIMITS.timelineMaxEntries, {
      deliveriesPerSecond: 1000,
    });
    const elapsed = Date.now() - started;
    expect(await holding(tweetId)).toBe(TIMELINES);
    expect(elapsed).toBeGreaterThanOrEqual(1250);
    expect(elapsed).toBeLessThan(4000);
  });

  it('keeps a few chunks in flight when unpaced, and every timeline gets the tweet', async () => {
    const tweetId = newTweetId('author', Date.now() - 10_000);
    const cache = cacheOver(redis);
    let inFlight = 0;
    let most = 0;
    const counted: typeof cache = {
      ...cache,
      batchOrThrow: async (build, retry) => {
        most = Math.max(most, ++inFlight);
        try {
          return await cache.batchOrThrow(build, retry);
        } finally {
          inFlight--;
        }
      },
    };
    // 1,500 timelines: 3 chunks of 500.
    const delivered = await addToTimelines(
      { cache: counted },
      users,
      [tweetId],
      LIMITS.timelineMaxEntries,
    );
    expect(delivered).toBe(TIMELINES);
    expect(await holding(tweetId)).toBe(TIMELINES);
    expect(most).toBe(UNPACED_CHUNKS_IN_FLIGHT);
  });
});
