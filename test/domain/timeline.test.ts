import './setup-env';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../app/model';
import { handler as timelineHandler } from '../../lambdas/http/get-timeline';
import { handler as followHandler } from '../../lambdas/http/follow-user';
import { handler as unfollowHandler } from '../../lambdas/http/unfollow-user';
import { tweetCacheKey } from '../../lambdas/core/tweets/store';
import { timelineKeys } from '../../lambdas/core/timelines/store-keys';
import { followKeys } from '../../lambdas/core/follows/store-cache';
import type { Deps } from '../../lambdas/core/ports';
import { createFanoutHandler } from '../../lambdas/core/timelines/fanout';
import { followUser, unfollowUser } from '../../lambdas/core/follows/service';
import { clearTimelineStale } from '../../lambdas/core/follows/store';
import { tweetTime, ulid } from '../../lambdas/core/ids';
import { readHomeTimeline } from '../../lambdas/core/timelines/service';
import { addToTimelines } from '../../lambdas/core/timelines/store';
import {
  createTweet,
  deleteTweet,
  getTweet,
  listUserTweets,
} from '../../lambdas/core/tweets/service';
import { dynamo, tables, type CacheClient } from '../../lambdas/platform/clients';
import {
  deadRedis,
  errorCode,
  httpEvent,
  isolatedRedis,
  newUser,
  parse,
  storedTimeline,
  testDeps,
  existingUser,
} from './harness';

// This file owns a redis-server: the stack's own stream pump cannot interfere.
let db: CacheClient;
let deps: Deps;
let fanout: ReturnType<typeof createFanoutHandler>;
beforeAll(async () => {
  db = await isolatedRedis();
  deps = testDeps({ redis: db });
  fanout = createFanoutHandler(deps);
});

async function tweet(author: string, text = 'hi', with_deps?: Deps): Promise<string> {
  const result = await createTweet(with_deps ?? deps, author, { text, media_ids: [] });
  return (JSON.parse(result.tweet) as { tweet_id: string }).tweet_id;
}

function streamEvent(
  changes: { kind: 'INSERT' | 'REMOVE' | 'MODIFY'; tweetId: string }[],
): DynamoDBStreamEvent {
  return {
    Records: changes.map((change, index) => ({
      eventID: `e${index}`,
      eventName: change.kind,
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: { user_id: { S: change.tweetId.slice(27) }, tweet_id: { S: change.tweetId } },
        SequenceNumber: String(1000 + index),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    })),
  };
}

/** Every tweet id of a home timeline, paging with `limit`. */
async function readAll(user: string, limit: number, using?: Deps): Promise<string[]> {
  const d = using ?? deps;
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await readHomeTimeline(d, user, { limit, ...(cursor ? { cursor } : {}) });
    ids.push(...page.tweets.map((json) => (JSON.parse(json) as { tweet_id: string }).tweet_id));
    if (page.next_cursor === null) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

const newestFirst = (ids: string[]) => [...ids].sort().reverse();

describe('fanout', () => {
  it('writes a new tweet into existing timelines only, once, however often the batch is replayed', async () => {
    const author = await existingUser('author');
    const [reader, absent] = [newUser('reader'), newUser('absent')];
    await followUser(deps, reader, author);
    await followUser(deps, absent, author);
    expect(await readAll(reader, 20)).toEqual([]); // builds the reader's (empty) timeline
    const id = await tweet(author);
    const event = streamEvent([{ kind: 'INSERT', tweetId: id }]);
    for (let i = 0; i < 3; i++) expect(await fanout(event)).toEqual({ batchItemFailures: [] });
    expect(await storedTimeline(db, reader)).toEqual(['built', id]);
    expect(await db.exists(timelineKeys.homeTimeline(absent))).toBe(0);
    expect(await readAll(reader, 20)).toEqual([id]);

    expect(await fanout(streamEvent([{ kind: 'REMOVE', tweetId: id }]))).toEqual({
      batchItemFailures: [],
    });
    expect(await storedTimeline(db, reader)).toEqual(['built']);
  });

  it('keeps followers in a Redis set that follows extend and unfollows drop', async () => {
    const author = await existingUser('author');
    const [early, late] = [newUser('early'), newUser('late')];
    await followUser(deps, early, author);
    for (const user of [early, late]) expect(await readAll(user, 5)).toEqual([]);
    const first = await tweet(author);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: first }]));
    const key = followKeys.followers(author);
    expect(((await db.call('SMEMBERS', key)) as string[]).sort()).toEqual(['#built', early]);
    const ttl = await db.call('TTL', key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15 * 60);
    await followUser(deps, late, author);
    expect(((await db.call('SMEMBERS', key)) as string[]).sort()).toEqual(['#built', early, late]);
    const second = await tweet(author);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: second }]));
    expect(await readAll(late, 5)).toEqual([second, first]); // first by backfill, second by fanout
    await unfollowUser(deps, early, author);
    expect(await db.exists(key)).toBe(0);
    const third = await tweet(author);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: third }]));
    expect(await readAll(early, 5)).toEqual([]);
    expect(await readAll(late, 5)).toEqual([third, second, first]);
    expect(((await db.call('SMEMBERS', key)) as string[]).sort()).toEqual(['#built', late]);
  });

  it('reports the first failed record and every later one when Redis is down', async () => {
    const author = await existingUser();
    const ids = [await tweet(author), await tweet(author)];
    const broken = createFanoutHandler(testDeps({ redis: deadRedis() }));
    const result = await broken(
      streamEvent([
        { kind: 'MODIFY', tweetId: ids[0] ?? '' },
        { kind: 'INSERT', tweetId: ids[0] ?? '' },
        { kind: 'INSERT', tweetId: ids[1] ?? '' },
      ]),
    );
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: '1001' },
      { itemIdentifier: '1002' },
    ]);
  });
});

describe('home timeline', () => {
  it('is rebuilt from DynamoDB with every tweet, in order, after Redis lost everything', async () => {
    const reader = newUser('reader');
    const [b, c] = [await existingUser('b'), await existingUser('c')];
    await followUser(deps, reader, b);
    await followUser(deps, reader, c);
    const sameMs = Date.now();
    const pinned = testDeps({ redis: db, now: () => sameMs });
    const ids: string[] = [];
    // Several tweets in one millisecond: equal scores, ordered by id across page boundaries.
    for (const author of [b, c, reader, b, c]) ids.push(await tweet(author, 'tie', pinned));
    for (let i = 0; i < 10; i++) ids.push(await tweet([b, c, reader][i % 3] ?? b, `t${i}`));
    ids.push(await tweet(newUser('stranger')));
    const expected = newestFirst(ids.filter((id) => !id.includes('stranger')));
    expect(await readAll(reader, 4)).toEqual(expected);
    await db.call('FLUSHDB');
    expect(await readAll(reader, 3)).toEqual(expected);
    expect(await db.call('ZSCORE', timelineKeys.homeTimeline(reader), 'built')).toBe('-inf');
    expect(await readAll(reader, 100)).toEqual(expected);
  });

  it('lets a forged cursor move only within the caller\u2019s own timeline', async () => {
    const reader = newUser();
    const followee = await existingUser();
    await followUser(deps, reader, followee);
    const own = [await tweet(followee), await tweet(reader)];
    const secret = await tweet(newUser('private'));
    const forged = Buffer.from(`h1|0|${secret.replace(/^.{10}/, '7ZZZZZZZZZ')}`).toString(
      'base64url',
    );
    const page = await readHomeTimeline(deps, reader, { limit: 50, cursor: forged });
    const seen = page.tweets.map((json) => (JSON.parse(json) as { tweet_id: string }).tweet_id);
    expect(seen).toEqual(newestFirst(own));
  });

  it('refuses bad limits and cursors with 400 invalid_request', async () => {
    const user = newUser();
    const bad: Record<string, string>[] = [
      { limit: '-1' },
      { limit: '1e9' },
      { limit: 'ten' },
      { limit: '0' },
      { limit: '101' },
      { cursor: 'x'.repeat(5000) },
      { cursor: 'not base64!' },
      { cursor: Buffer.from('h1|0|nonsense').toString('base64url') },
      { cursor: Buffer.from('h1|9999|01J00000000000000000000000-a').toString('base64url') },
      { cursor: Buffer.from('u1|01J00000000000000000000000-a').toString('base64url') },
    ];
    for (const query of bad) {
      const result = parse(await timelineHandler(httpEvent('GET /v1/timeline', { user, query })));
      expect([query, result.status, errorCode(result)]).toEqual([query, 400, 'invalid_request']);
    }
    const ok = parse(await timelineHandler(httpEvent('GET /v1/timeline', { user })));
    expect(ok).toMatchObject({ status: 200, body: { tweets: [], next_cursor: null } });
  });

  it('skips deleted tweets before the fanout removes them', async () => {
    const reader = newUser();
    const keep = await tweet(reader, 'keep');
    const gone = await tweet(reader, 'gone');
    expect(await readAll(reader, 10)).toEqual([gone, keep]);
    // Delete with another client: this timeline still holds the id until the fanout runs.
    await deleteTweet(testDeps(), reader, gone);
    expect(await storedTimeline(db, reader)).toContain(gone);
    await db.del(tweetCacheKey(gone));
    expect(await readAll(reader, 10)).toEqual([keep]);
  });

  it('keeps the newest 800 entries and pages no deeper', async () => {
    const reader = newUser();
    expect(await readAll(reader, 10)).toEqual([]);
    // One millisecond each, later than any id made so far (ulid() keeps ids increasing, so an
    // earlier time would give them all one millisecond).
    const start = Date.now() + 60_000;
    const ids = Array.from({ length: 850 }, (_, i) => `${ulid(start + i)}-ghost`);
    await addToTimelines(deps, [reader], ids, deps.timelineMaxEntries);
    // 800 entries and two markers: built, and the floor the trim raised to the newest cut entry.
    const stored = await storedTimeline(db, reader);
    expect(stored).toHaveLength(802);
    expect(stored.slice(0, 3)).toEqual(['built', `floor:${tweetTime(ids[49] ?? '')}`, ids[50]]);
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await readHomeTimeline(deps, reader, {
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor !== undefined && pages < 20);
    expect(pages).toBe(8);
  });
});

describe('celebrities', () => {
  it('are merged at read time instead of fanned out', async () => {
    const low = testDeps({ redis: db, fanoutMaxFollowers: 1 });
    const celebrity = await existingUser('celeb');
    const [reader, fan, normal] = [newUser('reader'), newUser('fan'), await existingUser('normal')];
    await followUser(low, fan, celebrity);
    await followUser(low, reader, celebrity);
    await followUser(low, reader, normal);
    expect(await readAll(reader, 5, low)).toEqual([]);
    const ids = [
      await tweet(normal),
      await tweet(celebrity),
      await tweet(normal),
      await tweet(celebrity),
    ];
    const lowFanout = createFanoutHandler(low);
    expect(
      await lowFanout(streamEvent(ids.map((tweetId) => ({ kind: 'INSERT' as const, tweetId })))),
    ).toEqual({
      batchItemFailures: [],
    });
    const stored = await storedTimeline(db, reader);
    expect(stored.filter((id) => id.endsWith(celebrity))).toEqual([]);
    expect(stored.filter((id) => id.endsWith(normal)).length).toBe(2);
    expect(await readAll(reader, 1, low)).toEqual(newestFirst(ids));
    expect(await readAll(reader, 10, low)).toEqual(newestFirst(ids));
    // Rebuilt without the celebrity's entries, which are still merged in.
    await db.del(timelineKeys.homeTimeline(reader));
    expect(await readAll(reader, 3, low)).toEqual(newestFirst(ids));
    expect((await storedTimeline(db, reader)).filter((id) => id.endsWith(celebrity))).toEqual([]);
    // A new celebrity tweet shows without any fanout to followers.
    const fresh = await tweet(celebrity);
    await lowFanout(streamEvent([{ kind: 'INSERT', tweetId: fresh }]));
    expect((await readAll(reader, 2, low))[0]).toBe(fresh);
  });
});

describe('follows', () => {
  it('backfill the followee into an existing timeline and unfollow takes them out', async () => {
    const reader = newUser('reader');
    const followee = await existingUser('followee');
    const mine = await tweet(reader);
    const theirs = [await tweet(followee), await tweet(followee), await tweet(followee)];
    expect(await readAll(reader, 10)).toEqual([mine]);
    await followUser(deps, reader, followee);
    expect(await storedTimeline(db, reader)).toHaveLength(5);
    expect(await readAll(reader, 10)).toEqual(newestFirst([mine, ...theirs]));
    await unfollowUser(deps, reader, followee);
    expect(await storedTimeline(db, reader)).toEqual(['built', mine]);
    expect(await readAll(reader, 10)).toEqual([mine]);
    // A fanout already under way when the unfollow landed writes one more entry: never shown.
    const late = await tweet(followee);
    await addToTimelines(deps, [reader], [late], deps.timelineMaxEntries);
    expect(await readAll(reader, 10)).toEqual([mine]);
  });

  it('are idempotent, keep both directions and counters in step, and refuse yourself', async () => {
    const a = newUser();
    const b = await existingUser();
    const call = async (h: typeof followHandler, user: string, target: string) =>
      parse(
        await h(
          httpEvent('PUT /v1/users/{user_id}/follow', {
            user,
            pathParameters: { user_id: target },
          }),
        ),
      );
    expect((await call(followHandler, a, b)).status).toBe(204);
    expect((await call(followHandler, a, b)).status).toBe(204);
    const profile = async (user: string) =>
      (
        await dynamo.send(
          new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.profile(user) }),
        )
      ).Item;
    expect(await profile(a)).toMatchObject({ following_count: 1 });
    expect(await profile(b)).toMatchObject({ follower_count: 1 });
    const edge = await dynamo.send(
      new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.follower(b, a) }),
    );
    expect(edge.Item).toBeDefined();
    expect((await call(unfollowHandler, a, b)).status).toBe(204);
    expect((await call(unfollowHandler, a, b)).status).toBe(204);
    expect(await profile(a)).toMatchObject({ following_count: 0 });
    expect(await profile(b)).toMatchObject({ follower_count: 0 });
    for (const target of [a, '../etc', 'x'.repeat(129), 'ü']) {
      const result = await call(followHandler, a, target);
      expect([target, result.status, errorCode(result)]).toEqual([target, 400, 'invalid_request']);
    }
  });
});

describe('a follow or unfollow whose Redis work failed while Redis kept its data', () => {
  const staleMark = async (user: string) =>
    (
      await dynamo.send(
        new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.profile(user) }),
      )
    ).Item?.timeline_stale_at as unknown;
  // The follow graph is cached for 60 s; dropping it stands in for waiting out its TTL.
  const expireGraph = (user: string) => db.del(followKeys.followGraph(user));

  it('still fans the followee out to the new follower and backfills their timeline once the graph is re-read', async () => {
    const author = await existingUser('author');
    const follower = newUser('follower');
    expect(await readAll(follower, 10)).toEqual([]); // the follower's timeline is built
    const earlier = await tweet(author);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: earlier }])); // caches the follower set
    expect(await db.call('SMEMBERS', followKeys.followers(author))).toEqual(['#built']);

    await followUser(testDeps({ redis: deadRedis() }), follower, author);
    // Redis never heard of the follow; DynamoDB holds the edge and the mark.
    expect(await db.call('SMEMBERS', followKeys.followers(author))).toEqual(['#built']);
    expect(await storedTimeline(db, follower)).not.toContain(earlier);
    expect(typeof (await staleMark(follower))).toBe('string');

    // The fanout sees the set disagree with follower_count and rebuilds it from DynamoDB.
    const later = await tweet(author);
    expect(await fanout(streamEvent([{ kind: 'INSERT', tweetId: later }]))).toEqual({
      batchItemFailures: [],
    });
    expect(((await db.call('SMEMBERS', followKeys.followers(author))) as string[]).sort()).toEqual([
      '#built',
      follower,
    ]);
    expect(await storedTimeline(db, follower)).toContain(later);

    await expireGraph(follower);
    expect(await readAll(follower, 10)).toEqual([later, earlier]);
    expect(await storedTimeline(db, follower)).toEqual(['built', earlier, later]);
    expect(await staleMark(follower)).toBeUndefined();
  });

  it('stops the fanout to the former follower and rebuilds their timeline without the followee', async () => {
    const author = await existingUser('author');
    const follower = newUser('follower');
    await followUser(deps, follower, author);
    const mine = await tweet(follower);
    const before = await tweet(author);
    expect(await readAll(follower, 10)).toEqual([before, mine]);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: before }]));
    expect(((await db.call('SMEMBERS', followKeys.followers(author))) as string[]).sort()).toEqual([
      '#built',
      follower,
    ]);

    await unfollowUser(testDeps({ redis: deadRedis() }), follower, author);
    expect(typeof (await staleMark(follower))).toBe('string');
    const after = await tweet(author);
    await fanout(streamEvent([{ kind: 'INSERT', tweetId: after }]));
    expect(await db.call('SMEMBERS', followKeys.followers(author))).toEqual(['#built']);
    expect(await storedTimeline(db, follower)).not.toContain(after);

    await expireGraph(follower);
    expect(await readAll(follower, 10)).toEqual([mine]);
    expect(await storedTimeline(db, follower)).toEqual(['built', mine]);
    expect(await staleMark(follower)).toBeUndefined();
  });

  it('keeps a newer stale mark than the one a rebuild saw', async () => {
    const user = newUser();
    const followee = await existingUser();
    await followUser(testDeps({ redis: deadRedis() }), user, followee);
    const mark = await staleMark(user);
    expect(typeof mark).toBe('string');
    await clearTimelineStale(deps, user, '2000-01-01T00:00:00.000Z');
    expect(await staleMark(user)).toBe(mark);
    await clearTimelineStale(deps, user, String(mark));
    expect(await staleMark(user)).toBeUndefined();
  });
});

describe('with Redis down', () => {
  it('every route still answers correctly from DynamoDB', async () => {
    const down = testDeps({ redis: deadRedis() });
    const reader = newUser();
    const followee = await existingUser();
    await followUser(down, reader, followee);
    const ids = [
      await tweet(followee, 'a', down),
      await tweet(reader, 'b', down),
      await tweet(followee, 'c', down),
    ];
    expect(JSON.parse(await getTweet(down, ids[0] ?? ''))).toMatchObject({ text: 'a' });
    expect(await readAll(reader, 2, down)).toEqual(newestFirst(ids));
    const history = await listUserTweets(down, followee, { limit: 10 });
    expect(history.tweets.length).toBe(2);
    await deleteTweet(down, reader, ids[1] ?? '');
    expect(await readAll(reader, 2, down)).toEqual(newestFirst([ids[0] ?? '', ids[2] ?? '']));
    await unfollowUser(down, reader, followee);
    expect(await readAll(reader, 2, down)).toEqual([]);
  });
});
