/**
 * ElastiCache Serverless runs only in cluster mode: a command or script touching keys of several
 * hash slots fails with CROSSSLOT, and the domain would quietly treat every such failure as a
 * miss (right answers, but a cache that never works). The local redis-server is a one-node cluster
 * like it, and these tests prove the hot paths are served from Redis alone: DynamoDB is replaced
 * by a client that fails every call, so any cache miss fails the test. (The fanout is allowed its
 * one GetItem of the author's follower_count, which checks the cached follower set.)
 */
import './setup-env';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { tweetCacheKey } from '../../lambdas/core/tweets/store';
import type { Deps } from '../../lambdas/core/ports';
import { createFanoutHandler } from '../../lambdas/core/timelines/fanout';
import { followUser } from '../../lambdas/core/follows/service';
import { readHomeTimeline } from '../../lambdas/core/timelines/service';
import { createTweet, getTweet } from '../../lambdas/core/tweets/service';
import { dynamo, redis, type CacheClient } from '../../lambdas/platform/clients';
import type { DocumentStore } from '../../lambdas/platform/document-store';
import { Cluster } from 'ioredis';
import { existingUser, isolatedRedis, newUser, testDeps, timelineChunks } from './harness';

// A redis-server of this file's own: the e2e outage tests stop the stack's shared one.
let db: CacheClient;
beforeAll(async () => {
  db = await isolatedRedis();
});

/**
 * DynamoDB that records each operation and serves only those `allowed`; any other fails, so a
 * cache hit that fell back to DynamoDB fails the test.
 */
function recordingDynamo(calls: string[], allowed: readonly string[] = []): DocumentStore {
  return new Proxy(dynamo, {
    get(target, operation: string) {
      return (input: unknown) => {
        calls.push(operation);
        if (!allowed.includes(operation)) {
          return Promise.reject(new Error(`DynamoDB must not be used here (${operation})`));
        }
        return (target[operation as keyof DocumentStore] as (input: unknown) => unknown)(input);
      };
    },
  });
}

/** DynamoDB that serves only the profile GetItem the fanout checks its follower set with. */
const profileReadsOnly = (calls: string[]) => recordingDynamo(calls, ['get']);

/** DynamoDB that must not be needed: every call fails, and is recorded. */
const unreachableDynamo = (calls: string[]) => recordingDynamo(calls);

function insertEvent(tweetId: string): DynamoDBStreamEvent {
  return {
    Records: [
      {
        eventID: 'e0',
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          Keys: { user_id: { S: tweetId.slice(27) }, tweet_id: { S: tweetId } },
          SequenceNumber: '1',
        },
      },
    ],
  };
}

async function tweet(deps: Deps, author: string): Promise<string> {
  const result = await createTweet(deps, author, { text: `by ${author}`, media_ids: [] });
  return (JSON.parse(result.tweet) as { tweet_id: string }).tweet_id;
}

const tweetIds = (page: { tweets: string[] }) =>
  page.tweets.map((json) => (JSON.parse(json) as { tweet_id: string }).tweet_id);

describe('the cache in cluster mode, as on ElastiCache Serverless', () => {
  it('is a cluster locally too, which refuses multi-key commands across slots', async () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect(await db.call('INFO', 'cluster')).toMatch(/^cluster_enabled:1\r?$/m);
    expect(await db.call('CLUSTER', 'INFO')).toMatch(/^cluster_state:ok\r?$/m);
    await expect(db.call('MGET', tweetCacheKey('a'), tweetCacheKey('b'))).rejects.toThrow(
      /CROSSSLOT/,
    );
    await expect(db.call('SELECT', 1)).rejects.toThrow(/SELECT is not allowed in cluster mode/);
  });

  it('serves a timeline page and a tweet from Redis alone, and a fanout with one GetItem, once warm', async () => {
    const deps = testDeps({ redis: db });
    const author = await existingUser('author');
    const reader = newUser('reader');
    await followUser(deps, reader, author);
    expect(tweetIds(await readHomeTimeline(deps, reader, { limit: 10 }))).toEqual([]); // builds it
    const first = await tweet(deps, author);
    const fanout = createFanoutHandler(deps);
    expect(await fanout(insertEvent(first))).toEqual({ batchItemFailures: [] });
    const second = await tweet(deps, author);

    // The follower set is cached, so the fanout reads only the author's follower_count (to check
    // the set against it) and writes the timelines.
    const fanoutCalls: string[] = [];
    const countOnly = testDeps({ redis: db, dynamo: profileReadsOnly(fanoutCalls) });
    expect(await createFanoutHandler(countOnly)(insertEvent(second))).toEqual({
      batchItemFailures: [],
    });
    expect(fanoutCalls).toEqual(['get']);
    const calls: string[] = [];
    const cacheOnly = testDeps({ redis: db, dynamo: unreachableDynamo(calls) });
    // One script reads the timeline and the follow graph (keys sharing a hash tag), and one
    // pipeline of GETs the tweets (keys of different slots).
    const page = await readHomeTimeline(cacheOnly, reader, { limit: 10 });
    expect(tweetIds(page)).toEqual([second, first]);
    expect(JSON.parse(await getTweet(cacheOnly, first))).toMatchObject({ tweet_id: first });
    expect(calls).toEqual([]);
  });

  it('pages a timeline of several chunks from Redis alone (the scripts reach chunks they do not declare, in the same slot)', async () => {
    const deps = testDeps({ redis: db });
    const reader = newUser('reader');
    const ids: string[] = [];
    for (let i = 0; i < 125; i++) ids.push(await tweet(deps, reader));
    const newestFirst = [...ids].sort().reverse();
    // The first read rebuilds the timeline (125 entries: chunks of 120 and 5) and caches each
    // tweet it shows.
    const readAll = async (using: Deps) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await readHomeTimeline(using, reader, {
          limit: 20,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...tweetIds(page));
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return seen;
    };
    expect(await readAll(deps)).toEqual(newestFirst);
    expect(await timelineChunks(db, reader)).toHaveLength(2);
    const calls: string[] = [];
    const cacheOnly = testDeps({ redis: db, dynamo: unreachableDynamo(calls) });
    expect(await readAll(cacheOnly)).toEqual(newestFirst);
    expect(calls).toEqual([]);
  });

  it('merges several celebrities from their cached recent tweets', async () => {
    const deps = testDeps({ redis: db, fanoutMaxFollowers: 0 });
    const reader = newUser('reader');
    const celebrities = [
      await existingUser('celeb'),
      await existingUser('celeb'),
      await existingUser('celeb'),
    ];
    for (const celebrity of celebrities) await followUser(deps, reader, celebrity);
    const ids: string[] = [];
    for (const celebrity of celebrities) ids.push(await tweet(deps, celebrity));
    const newestFirst = [...ids].sort().reverse();
    expect(tweetIds(await readHomeTimeline(deps, reader, { limit: 10 }))).toEqual(newestFirst);

    // The celebrities' recent ids are cached for 2 s: read again at once, from Redis alone.
    const calls: string[] = [];
    const cacheOnly = testDeps({
      redis: db,
      fanoutMaxFollowers: 0,
      dynamo: unreachableDynamo(calls),
    });
    expect(tweetIds(await readHomeTimeline(cacheOnly, reader, { limit: 10 }))).toEqual(newestFirst);
    expect(calls).toEqual([]);
  });
});
