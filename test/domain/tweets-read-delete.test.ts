import './setup-env';
import { expect } from '@jest/globals';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createTweetHandler } from '../../lambdas/http/create-tweet';
import { handler as getTweetHandler } from '../../lambdas/http/get-tweet';
import { handler as deleteTweetHandler } from '../../lambdas/http/delete-tweet';
import { handler as initMediaHandler } from '../../lambdas/http/init-media';
import { handler as listHandler } from '../../lambdas/http/list-user-tweets';
import { handler as timelineHandler } from '../../lambdas/http/get-timeline';
import { METADATA_KEYS } from '../../app/model';
import { timelineKeys } from '../../lambdas/core/timelines/store-keys';
import { addToTimelines } from '../../lambdas/core/timelines/store';
import { invalidateCachedTweet, tweetCacheKey } from '../../lambdas/core/tweets/store';
import { cacheOver } from '../../lambdas/platform/cache';
import { dynamo, redis, tables } from '../../lambdas/platform/clients';
import { errorCode, httpEvent, newUser, parse } from './harness';

const create = async (user: string, body: unknown) =>
  parse(await createTweetHandler(httpEvent('POST /v1/tweets', { user, body })));
const get = async (user: string, tweetId: string) =>
  parse(
    await getTweetHandler(
      httpEvent('GET /v1/tweets/{tweet_id}', { user, pathParameters: { tweet_id: tweetId } }),
    ),
  );
const del = async (user: string, tweetId: string) =>
  parse(
    await deleteTweetHandler(
      httpEvent('DELETE /v1/tweets/{tweet_id}', { user, pathParameters: { tweet_id: tweetId } }),
    ),
  );
const list = async (caller: string, user: string, query: Record<string, string> = {}) =>
  parse(
    await listHandler(
      httpEvent('GET /v1/users/{user_id}/tweets', {
        user: caller,
        pathParameters: { user_id: user },
        query,
      }),
    ),
  );

async function mediaId(user: string): Promise<string> {
  const result = parse(
    await initMediaHandler(
      httpEvent('POST /v1/media/init', {
        user,
        body: { content_type: 'image/png', size_bytes: 100 },
      }),
    ),
  );
  return result.body.media_id as string;
}

/**
 * What the transcoder and then the media publisher do: the record becomes ready with variants,
 * which are published (the API shows attached media ready only once published).
 */
async function markReady(id: string): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: tables.metadata,
      Key: METADATA_KEYS.media(id),
      UpdateExpression:
        'SET #s = :ready, variants = :variants, width = :w, height = :h, published_at = :now',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':now': new Date().toISOString(),
        ':ready': 'ready',
        ':w': 64,
        ':h': 48,
        ':variants': [
          {
            name: 'small',
            key: `media/${id}/small.webp`,
            content_type: 'image/webp',
            width: 64,
            height: 48,
            bytes: 321,
          },
        ],
      },
    }),
  );
}

describe('get-tweet', () => {
  it('answers tweet_not_found for malformed ids', async () => {
    for (const id of [
      '../../etc',
      '%2e%2e%2f',
      'x'.repeat(5000),
      '01J0000000000000000000000Ä-u',
      '01J00000000000000000000000',
      '01J00000000000000000000000-',
    ]) {
      const result = await get(newUser(), id);
      expect([result.status, errorCode(result)]).toEqual([404, 'tweet_not_found']);
    }
  });

  it('caches a missing id negatively, briefly', async () => {
    const id = `01J00000000000000000000000-${newUser()}`;
    const result = await get(newUser(), id);
    expect([result.status, errorCode(result)]).toEqual([404, 'tweet_not_found']);
    const ttl = await redis.call('TTL', tweetCacheKey(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it('serves hits from the cache and settled tweets for an hour', async () => {
    const user = newUser();
    const tweet = await create(user, { text: 'cached' });
    const id = tweet.body.tweet_id as string;
    await redis.del(tweetCacheKey(id));
    expect((await get(user, id)).body.text).toBe('cached');
    expect(await redis.call('TTL', tweetCacheKey(id))).toBeGreaterThan(3000);
    // A hit is served as stored: prove it by planting a different (valid) entry.
    await redis.set(
      tweetCacheKey(id),
      JSON.stringify({ ...tweet.body, text: 'from cache' }),
      'EX',
      60,
    );
    expect((await get(user, id)).body.text).toBe('from cache');
  });

  it('shows media ready within 2 s of processing, even with no invalidation at all', async () => {
    const user = newUser();
    const media = await mediaId(user);
    const tweet = await create(user, { text: 'pic', media_ids: [media] });
    const id = tweet.body.tweet_id as string;
    expect((await get(user, id)).body.media).toEqual([
      expect.objectContaining({ status: 'pending_upload' }),
    ]);
    const pttl = await redis.call('PTTL', tweetCacheKey(id));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    await markReady(media);
    const changed = Date.now();
    let status: unknown;
    while (Date.now() - changed < 2000) {
      status = ((await get(user, id)).body.media as { status: string }[])[0]?.status;
      if (status === 'ready') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('ready');
    const ready = await get(user, id);
    expect(ready.body.media).toEqual([
      expect.objectContaining({
        status: 'ready',
        width: 64,
        variants: [
          expect.objectContaining({ url: `${process.env.CDN_BASE_URL}/media/${media}/small.webp` }),
        ],
      }),
    ]);
    expect((ready.body.media as Record<string, unknown>[])[0]).not.toHaveProperty(
      'check_after_secs',
    );
  });

  it('shows the new media state at once after invalidateTweet', async () => {
    const user = newUser();
    const media = await mediaId(user);
    const id = (await create(user, { text: 'pic', media_ids: [media] })).body.tweet_id as string;
    // Pretend the pending entry lives long, as a racing fill could leave it.
    const stale = (await redis.get(tweetCacheKey(id))) ?? '';
    await redis.set(tweetCacheKey(id), stale, 'EX', 600);
    await markReady(media);
    expect(((await get(user, id)).body.media as { status: string }[])[0]?.status).toBe(
      'pending_upload',
    );
    await invalidateCachedTweet(cacheOver(redis), id);
    expect(((await get(user, id)).body.media as { status: string }[])[0]?.status).toBe('ready');
  });
});

describe('delete-tweet', () => {
  it('deletes your own tweet everywhere and detaches its media for good', async () => {
    const user = newUser();
    const media = await mediaId(user);
    const id = (await create(user, { text: 'bye', media_ids: [media] })).body.tweet_id as string;
    await redis.call('ZADD', timelineKeys.homeTimeline(user), '-inf', 'built');
    await addToTimelines({ cache: cacheOver(redis) }, [user], [id], 800);
    expect((await get(user, id)).status).toBe(200);
    expect((await del(user, id)).status).toBe(204);
    expect(errorCode(await get(user, id))).toBe('tweet_not_found');
    // The stack's own stream pump may re-add the id from the INSERT record until the REMOVE
    // record follows; readers never see it either way.
    const home = parse(await timelineHandler(httpEvent('GET /v1/timeline', { user })));
    expect(home.body).toEqual({ tweets: [], next_cursor: null });
    expect((await list(user, user)).body.tweets).toEqual([]);
    const record = (
      await dynamo.send(
        new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.media(media) }),
      )
    ).Item;
    expect(record).toMatchObject({ gsi2pk: 'UNATTACHED', detached_at: expect.any(String) });
    expect(record?.tweet_id).toBeUndefined();
    expect(record?.expires_at).toEqual(expect.any(Number));
    const reuse = await create(user, { text: 'again', media_ids: [media] });
    expect([reuse.status, errorCode(reuse)]).toEqual([422, 'media_not_found']);
    expect(errorCode(await del(user, id))).toBe('tweet_not_found');
  });

  it("answers tweet_not_found for someone else's tweet and leaves it alone", async () => {
    const owner = newUser();
    const id = (await create(owner, { text: 'mine' })).body.tweet_id as string;
    const attempt = await del(newUser(), id);
    expect([attempt.status, errorCode(attempt)]).toEqual([404, 'tweet_not_found']);
    expect((await get(owner, id)).status).toBe(200);
    expect(errorCode(await del(owner, '../../x'))).toBe('tweet_not_found');
  });
});

describe('list-user-tweets', () => {
  it('pages through the complete history, newest first', async () => {
    const user = newUser();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++)
      ids.push((await create(user, { text: `t${i}` })).body.tweet_id as string);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list(newUser(), user, { limit: '10', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...(page.body.tweets as { tweet_id: string }[]).map((t) => t.tweet_id));
      cursor = (page.body.next_cursor as string | null) ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const first = await list(user, user);
    expect((first.body.tweets as unknown[]).length).toBe(20);
  });

  it('refuses bad limits, bad cursors and cursors of another user', async () => {
    const user = newUser();
    const other = newUser();
    for (let i = 0; i < 3; i++) await create(other, { text: `o${i}` });
    const otherCursor = (await list(user, other, { limit: '1' })).body.next_cursor as string;
    expect(typeof otherCursor).toBe('string');
    const bad: Record<string, string>[] = [
      { limit: '-1' },
      { limit: '1e9' },
      { limit: 'abc' },
      { limit: '0' },
      { limit: '101' },
      { limit: '' },
      { cursor: 'A'.repeat(5000) },
      { cursor: '!!!' },
      { cursor: Buffer.from('u1|nonsense').toString('base64url') },
      { cursor: otherCursor },
    ];
    for (const query of bad) {
      const result = await list(user, user, query);
      expect([query, result.status, errorCode(result)]).toEqual([query, 400, 'invalid_request']);
    }
    for (const id of ['../x', 'ä', 'x'.repeat(129)]) {
      expect(errorCode(await list(user, id))).toBe('invalid_request');
    }
  });
});
