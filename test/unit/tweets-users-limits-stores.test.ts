/**
 * The tweets, users and limits stores' pure parts and the get-tweet hit path, on in-memory ports:
 * which cache commands and DynamoDB items they produce, without the local services.
 */
import { LIMITS, METADATA_KEYS } from '../../app/model';
import type {
  Cache,
  CacheBatch,
  CacheScript,
  CacheSetOptions,
} from '../../lambdas/core/cache-port';
import type { Deps } from '../../lambdas/core/ports';
import { DomainError } from '../../lambdas/core/errors';
import { newTweetId } from '../../lambdas/core/ids';
import { enforceRateLimit, RateLimiter } from '../../lambdas/core/limits/service';
import { getTweet } from '../../lambdas/core/tweets/service';
import {
  cacheTweetCommand,
  NEGATIVE_ENTRY,
  tombstoneTweetCommand,
  tweetCacheKey,
} from '../../lambdas/core/tweets/store';
import { planProfileUpdate, type ProfileUpdate } from '../../lambdas/core/users/store';
import type { DocumentStore } from '../../lambdas/platform/document-store';

type SetCall = [key: string, value: string, options: CacheSetOptions];

/** A batch that records its SETs (the only command these stores send in a batch here). */
function recordingBatch(sets: SetCall[]): CacheBatch {
  const batch = {
    set: (key: string, value: string, options: CacheSetOptions) => {
      sets.push([key, value, options]);
      return batch;
    },
  };
  return batch as unknown as CacheBatch;
}

/** A DocumentStore that fails the test if any call reaches it. */
const noDynamo = new Proxy({} as DocumentStore, {
  get: (_, operation) => () => Promise.reject(new Error(`DynamoDB called: ${String(operation)}`)),
});

function depsWith(cache: Partial<Cache>): Deps {
  return {
    dynamo: noDynamo,
    cache: cache as Cache,
    tables: { tweets: 'tweets', metadata: 'metadata' },
    cdnBaseUrl: 'https://cdn.test',
    fanoutMaxFollowers: 1,
    timelineMaxEntries: 1,
  };
}

describe('the tweet cache', () => {
  const id = newTweetId('alice');

  it('serves a hit with one GET of the tweet key and no DynamoDB call', async () => {
    const keys: string[] = [];
    const json = `{"tweet_id":"${id}"}`;
    const deps = depsWith({
      get: (_what, key) => {
        keys.push(key);
        return Promise.resolve(json);
      },
    });
    expect(await getTweet(deps, id)).toBe(json);
    expect(keys).toEqual([tweetCacheKey(id)]);
  });

  it('answers a negative entry with 404 tweet_not_found, without DynamoDB', async () => {
    const deps = depsWith({ get: () => Promise.resolve(NEGATIVE_ENTRY) });
    await expect(getTweet(deps, id)).rejects.toMatchObject({
      status: 404,
      code: 'tweet_not_found',
    });
  });

  it('fills settled tweets for an hour and changing ones for a second, only if absent', () => {
    const sets: SetCall[] = [];
    const batch = recordingBatch(sets);
    cacheTweetCommand(batch, id, '{}', true, 'fill');
    cacheTweetCommand(batch, id, '{}', false, 'fill');
    cacheTweetCommand(batch, id, '{}', true, 'overwrite');
    cacheTweetCommand(batch, id, '{}', false, 'overwrite');
    tombstoneTweetCommand(batch, id);
    expect(sets).toEqual([
      [`tweet:${id}`, '{}', { ttl: { seconds: 3600 }, onlyIfAbsent: true }],
      [`tweet:${id}`, '{}', { ttl: { ms: 1000 }, onlyIfAbsent: true }],
      [`tweet:${id}`, '{}', { ttl: { seconds: 3600 } }],
      [`tweet:${id}`, '{}', { ttl: { ms: 1000 } }],
      [`tweet:${id}`, NEGATIVE_ENTRY, { ttl: { seconds: 60 } }],
    ]);
  });
});

describe('the rate limiter', () => {
  const limits = { ...LIMITS.rateLimits, write: { limit: 4, periodSeconds: 10 } };
  const cacheAnswering = (reply: unknown, calls: unknown[][] = []) =>
    ({
      run: (
        _what: string,
        script: CacheScript,
        keys: readonly string[],
        args: readonly unknown[],
      ) => {
        calls.push([script.numberOfKeys, keys, args]);
        return Promise.resolve(reply);
      },
    }) as Pick<Cache, 'run'>;

  it("runs the GCRA script on the caller's bucket with now, interval and period, in µs", async () => {
    const calls: unknown[][] = [];
    expect(
      await enforceRateLimit({ cache: cacheAnswering([1, 0], calls) }, limits, 'bob', 'write', 5),
    ).toBe('allowed');
    expect(calls).toEqual([[1, ['rl:{bob}:write'], [5000, 2_500_000, 10_000_000, 1]]]);
  });

  it('refuses with 429 rate_limited and the wait, in whole seconds up, as Retry-After', async () => {
    const refusal = await enforceRateLimit(
      { cache: cacheAnswering([0, 1_500_000]) },
      limits,
      'bob',
      'write',
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 2 });
  });

  it('fails open when the cache cannot answer', async () => {
    expect(
      await enforceRateLimit({ cache: cacheAnswering(undefined) }, limits, 'bob', 'write'),
    ).toBe('unavailable');
  });

  it("a warm function's limiter fails open too, and holds no lease it was not given", async () => {
    const limiter = new RateLimiter(limits);
    const calls: unknown[][] = [];
    const down = { cache: cacheAnswering(undefined, calls) };
    expect(await limiter.spend(down, 'bob', 'write', 5)).toBe('unavailable');
    expect(await limiter.spend(down, 'bob', 'write', 5)).toBe('unavailable');
    expect(calls).toHaveLength(2);
    expect(limiter.decidesLocally('bob', 'write', 5)).toBe(false);
  });

  it('fails a concurrent burst open with one cache call, and refuses one with one', async () => {
    const calls: unknown[][] = [];
    const down = { cache: cacheAnswering(undefined, calls) };
    const limiter = new RateLimiter(limits);
    const burst = () => Array.from({ length: 10 }, () => limiter.spend(down, 'bob', 'write', 5));
    expect(await Promise.all(burst())).toEqual(Array(10).fill('unavailable'));
    expect(calls).toHaveLength(1);
    // 1.5 s until one would fit: every request of the burst gets the 429, from one answer.
    const refusing = { cache: cacheAnswering([0, 1_500_000], calls) };
    const refused = await Promise.allSettled(
      Array.from({ length: 10 }, () => limiter.spend(refusing, 'carol', 'write', 5)),
    );
    expect(
      refused.map((r) =>
        r.status === 'rejected' && r.reason instanceof DomainError
          ? `${r.reason.status} ${r.reason.code}`
          : r.status,
      ),
    ).toEqual(Array(10).fill('429 rate_limited'));
    expect(calls).toHaveLength(2);
  });
});

describe('a profile update', () => {
  const plan = (handle: string, update: ProfileUpdate) =>
    planProfileUpdate(
      { tables: { tweets: 'tweets', metadata: 'metadata' }, now: () => 0 },
      'u1',
      { user_id: 'u1', handle },
      update,
    );

  it('claims the new handle, releases the old one and is conditional on the handle read', () => {
    const planned = plan('Alice', { handle: 'bob' });
    expect(planned.map((p) => p.onConditionFailed)).toEqual(['handle_taken', 'retry', 'retry']);
    expect(planned[0]?.item.Put?.Item).toMatchObject({
      ...METADATA_KEYS.handle('bob'),
      user_id: 'u1',
    });
    expect(planned[1]?.item.Delete?.Key).toEqual(METADATA_KEYS.handle('Alice'));
    expect(planned[2]?.item.Update).toMatchObject({
      Key: METADATA_KEYS.profile('u1'),
      ConditionExpression: 'handle = :seenHandle',
    });
  });

  it('re-cases its own handle without releasing it', () => {
    const planned = plan('alice', { handle: 'Alice' });
    expect(planned.map((p) => Object.keys(p.item)[0])).toEqual(['Put', 'Update']);
  });
});
