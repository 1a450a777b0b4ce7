/**
 * Home timelines under interleavings that the soak found at load (issue: timelines diverged after
 * outages): each test forces one interleaving step by step against DynamoDB Local and a private
 * redis-server, by holding one real DynamoDB reply until another operation has run.
 */
import './setup-env';
import { METADATA_KEYS } from '../../app/model';
import { followKeys } from '../../lambdas/core/follows/store-cache';
import type { Deps } from '../../lambdas/core/ports';
import { createFanoutHandler } from '../../lambdas/core/timelines/fanout';
import { followUser, unfollowUser } from '../../lambdas/core/follows/service';
import { readHomeTimeline } from '../../lambdas/core/timelines/service';
import { createTweet, deleteTweet } from '../../lambdas/core/tweets/service';
import { dynamo, type CacheClient } from '../../lambdas/platform/clients';
import type { DocumentStore } from '../../lambdas/platform/document-store';
import { existingUser, isolatedRedis, newUser, storedTimeline, testDeps } from './harness';

let db: CacheClient;
let deps: Deps;
beforeAll(async () => {
  db = await isolatedRedis();
  deps = testDeps({ redis: db });
});

async function tweet(author: string, using: Deps = deps): Promise<string> {
  const result = await createTweet(using, author, { text: 'hi', media_ids: [] });
  return (JSON.parse(result.tweet) as { tweet_id: string }).tweet_id;
}

async function readAll(user: string, limit: number, using: Deps = deps): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await readHomeTimeline(using, user, { limit, ...(cursor ? { cursor } : {}) });
    ids.push(...page.tweets.map((json) => (JSON.parse(json) as { tweet_id: string }).tweet_id));
    if (page.next_cursor === null) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

const newestFirst = (ids: string[]) => [...ids].sort().reverse();

type Operation = Exclude<keyof DocumentStore, 'send'>;
const OPERATIONS: Operation[] = [
  'get',
  'put',
  'update',
  'delete',
  'query',
  'batchGet',
  'transactWrite',
];

/**
 * The real store, except that the first call `match` selects completes against DynamoDB Local
 * and then holds its reply until release(): the caller has read the old state, and the test runs
 * another operation before the caller goes on.
 */
function holdReply(store: DocumentStore, match: (operation: Operation, input: unknown) => boolean) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached = () => {};
  const held = new Promise<void>((resolve) => (reached = resolve));
  let armed = true;
  const wrapped = { send: store.send } as Record<string, unknown>;
  for (const operation of OPERATIONS) {
    wrapped[operation] = async (input: unknown) => {
      const output: unknown = await (store[operation] as (i: unknown) => Promise<unknown>)(input);
      if (armed && match(operation, input)) {
        armed = false;
        reached();
        await released;
      }
      return output;
    };
  }
  return { store: wrapped as unknown as DocumentStore, held, release };
}

/** The Query that lists whom `userId` follows (the start of every follow-graph load). */
const followeesQueryOf =
  (userId: string) =>
  (operation: Operation, input: unknown): boolean => {
    const values = (input as { ExpressionAttributeValues?: Record<string, unknown> })
      .ExpressionAttributeValues;
    return (
      operation === 'query' &&
      values?.[':pk'] === METADATA_KEYS.profile(userId).pk &&
      values[':prefix'] === METADATA_KEYS.followsPrefix
    );
  };

describe('home timeline races', () => {
  it('shows a followee whose follow committed while a graph reload was reading the old graph', async () => {
    const [reader, author] = [newUser('reader'), await existingUser('author')];
    const old = await tweet(author);
    expect(await readAll(reader, 20)).toEqual([]); // built, with the (empty) graph cached
    await db.del(followKeys.followGraph(reader)); // the cached graph expired

    const gate = holdReply(dynamo, followeesQueryOf(reader));
    const racing = readHomeTimeline({ ...deps, dynamo: gate.store }, reader, { limit: 20 });
    await gate.held; // the reload has read "follows nobody"
    await followUser(deps, reader, author);
    gate.release();
    await racing; // started before the follow: either answer is right for it

    expect(await readAll(reader, 20)).toEqual([old]);
  });

  it('leaves no entry of an author unfollowed while a rebuild was reading the old graph', async () => {
    const [reader, author] = [newUser('reader'), await existingUser('author')];
    await followUser(deps, reader, author);
    const old = await tweet(author);

    // The reader has no timeline in Redis: the read rebuilds it, and its graph read is held.
    const gate = holdReply(dynamo, followeesQueryOf(reader));
    const racing = readHomeTimeline({ ...deps, dynamo: gate.store }, reader, { limit: 20 });
    await gate.held; // the rebuild has read "follows author"
    await unfollowUser(deps, reader, author);
    gate.release();
    await racing;

    expect(await readAll(reader, 20)).toEqual([]);
    // Not merely hidden by the read's author filter: the entry is not in the timeline at all.
    expect(await storedTimeline(db, reader)).not.toContain(old);
  });

  it('pages a full timeline down to its depth after unfollows and deletes removed entries', async () => {
    const small: Deps = { ...deps, timelineMaxEntries: 4 };
    const fanout = createFanoutHandler(small);
    const [reader, kept, dropped] = [
      newUser('reader'),
      await existingUser('kept'),
      await existingUser('dropped'),
    ];
    await followUser(small, reader, kept);
    await followUser(small, reader, dropped);
    const keptIds: string[] = [];
    const droppedIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      keptIds.push(await tweet(kept, small));
      droppedIds.push(await tweet(dropped, small));
    }
    // Built with the newest 4 of 6: two of each author's, the oldest two trimmed.
    expect(await readAll(reader, 2, small)).toEqual(
      newestFirst([...keptIds, ...droppedIds]).slice(0, 4),
    );

    await unfollowUser(small, reader, dropped);
    expect(await readAll(reader, 2, small)).toEqual(newestFirst(keptIds));

    const newest = keptIds[2] ?? '';
    await deleteTweet(small, kept, newest);
    const removal = await fanout({
      Records: [
        {
          eventName: 'REMOVE',
          dynamodb: {
            Keys: { user_id: { S: kept }, tweet_id: { S: newest } },
            SequenceNumber: '1',
          },
        },
      ],
    });
    expect(removal.batchItemFailures).toEqual([]);
    expect(await readAll(reader, 2, small)).toEqual(newestFirst(keptIds.slice(0, 2)));
  });

  it('counts only shown entries towards the depth, so a deleted entry still held does not hide the last one', async () => {
    const small: Deps = { ...deps, timelineMaxEntries: 3 };
    const [reader, author] = [newUser('reader'), await existingUser('author')];
    await followUser(small, reader, author);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await tweet(author, small));
    expect(await readAll(reader, 2, small)).toEqual(newestFirst(ids).slice(0, 3));

    // Deleted, but its REMOVE has not reached this timeline yet (or a racing rebuild re-added it).
    const deleted = ids[3] ?? '';
    await deleteTweet(small, author, deleted);
    expect(await storedTimeline(db, reader)).toContain(deleted);
    expect(await readAll(reader, 2, small)).toEqual(newestFirst(ids.slice(0, 3)));
  });

  it('rebuilds a timeline whose follow committed but whose response was lost before the cache work', async () => {
    const [reader, author] = [newUser('reader'), await existingUser('author')];
    const old = await tweet(author);
    expect(await readAll(reader, 20)).toEqual([]);

    // Forced failure that DynamoDB Local cannot produce: the transaction commits, then its reply
    // is lost (a timeout or a crash of the function right after the commit).
    const lossy: DocumentStore = {
      ...dynamo,
      send: dynamo.send,
      transactWrite: async (input) => {
        await dynamo.transactWrite(input);
        throw new Error('injected: reply lost after commit');
      },
    };
    await expect(followUser({ ...deps, dynamo: lossy }, reader, author)).rejects.toThrow(
      'injected',
    );
    await db.del(followKeys.followGraph(reader)); // the cached graph expired

    expect(await readAll(reader, 20)).toEqual([old]);
  });
});
