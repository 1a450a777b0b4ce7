/**
 * Tweets over HTTP: create, read, delete, idempotent retries, and every error code of the
 * create/read/delete contract.
 */
import { eventually, newUser, expectError } from '../support/api-client';
import { generatePng, upload, uploadMedia } from '../support/media';

const ULID_LIKE_MISSING = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

async function initOnly(user: ReturnType<typeof newUser>, contentType = 'image/png', size = 1000) {
  const init = await user.initSinglePut({
    content_type: contentType,
    size_bytes: size,
  });
  expect(init.status).toBe(201);
  return init.body;
}

describe('tweets', () => {
  const alice = newUser('alice');
  const bob = newUser('bob');

  it('creates a tweet and reads it back by id', async () => {
    const created = await alice.createTweet({ text: 'first!' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user_id: alice.id, text: 'first!', media: [] });
    expect(new Date(created.body.created_at).toISOString()).toBe(created.body.created_at);
    const read = await bob.getTweet(created.body.tweet_id);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('counts text in code points after NFC normalisation', async () => {
    // 280 decomposed é (560 code points) normalise to 280 composed ones.
    const decomposed = 'e\u0301'.repeat(280);
    const ok = await alice.createTweet({ text: decomposed });
    expect(ok.status).toBe(201);
    expect(ok.body.text).toBe('\u00e9'.repeat(280));
    const emoji = await alice.createTweet({ text: '🐦'.repeat(280) });
    expect(emoji.status).toBe(201);
    expectError(await alice.createTweet({ text: 'a'.repeat(281) }), 400, 'text_too_long');
  });

  it('rejects malformed requests with 400 invalid_request and writes nothing', async () => {
    const carol = newUser('carol');
    // Untyped: bodies the contract's types refuse (not JSON, not an object, wrong types).
    const cases: [string, Parameters<typeof carol.untyped>[2]][] = [
      ['malformed JSON', { rawBody: '{"text":', headers: { 'content-type': 'application/json' } }],
      ['an array body', { rawBody: '[]', headers: { 'content-type': 'application/json' } }],
      ['a null body', { rawBody: 'null', headers: { 'content-type': 'application/json' } }],
      ['no body', {}],
    ];
    for (const [, options] of cases) {
      expectError(await carol.untyped('POST', '/v1/tweets', options), 400, 'invalid_request');
    }
    expectError(
      await carol.untyped('POST', '/v1/tweets', { body: { text: 42 } }),
      400,
      'invalid_request',
    );
    expectError(await carol.createTweet({ text: '' }), 400, 'invalid_request');
    expectError(
      await carol.untyped('POST', '/v1/tweets', { body: { text: 'x', media_ids: 'nope' } }),
      400,
      'invalid_request',
    );
    const media = await initOnly(carol);
    expectError(
      await carol.createTweet({ text: 'x', media_ids: [media.media_id, media.media_id] }),
      400,
      'invalid_request',
    );
    expectError(await carol.createTweet({ text: 'x' }, 'k'.repeat(129)), 400, 'invalid_request');
    const page = await carol.userTweets(carol.id);
    expect(page.body.tweets).toEqual([]);
  });

  it('enforces the media count rules with 400 too_many_media', async () => {
    const five = await Promise.all([1, 2, 3, 4, 5].map(() => initOnly(alice)));
    expectError(
      await alice.createTweet({ text: 'five', media_ids: five.map((m) => m.media_id) }),
      400,
      'too_many_media',
    );
    const gif = await initOnly(alice, 'image/gif');
    const png = await initOnly(alice);
    expectError(
      await alice.createTweet({ text: 'gif+png', media_ids: [gif.media_id, png.media_id] }),
      400,
      'too_many_media',
    );
  });

  it("rejects missing, foreign, attached and failed media with 422, and hides others' unattached media", async () => {
    expectError(
      await alice.createTweet({ text: 'x', media_ids: [ULID_LIKE_MISSING] }),
      422,
      'media_not_found',
    );

    const bobsMedia = await initOnly(bob);
    expectError(
      await alice.createTweet({ text: 'x', media_ids: [bobsMedia.media_id] }),
      422,
      'media_not_found',
    );
    expectError(await alice.getMedia(bobsMedia.media_id), 404, 'media_not_found');
    expect((await bob.getMedia(bobsMedia.media_id)).status).toBe(200);

    const attached = await uploadMedia(alice, await generatePng());
    const first = await alice.createTweet({
      text: 'one',
      media_ids: [attached.media_id],
    });
    expect(first.status).toBe(201);
    // Once attached to a tweet, media is public.
    expect((await bob.getMedia(attached.media_id)).status).toBe(200);
    expectError(
      await alice.createTweet({ text: 'two', media_ids: [attached.media_id] }),
      422,
      'media_already_attached',
    );

    // Bytes that are not a PNG: the transcoder marks the media failed.
    const garbage = Buffer.from('this is not an image at all, just text pretending to be one');
    const broken = await initOnly(alice, 'image/png', garbage.length);
    expect((await upload(broken, garbage)).status).toBe(200);
    const failed = await eventually(
      'the transcoder to fail the media',
      async () => {
        const media = await alice.getMedia(broken.media_id);
        return media.body.status === 'failed' ? media.body : undefined;
      },
      30_000,
      100,
    );
    expect(failed.failure?.code).toEqual(expect.any(String));
    expectError(
      await alice.createTweet({ text: 'x', media_ids: [broken.media_id] }),
      422,
      'media_failed',
    );
  });

  it('returns 404 tweet_not_found for missing tweets and for deleting what is not yours', async () => {
    expectError(await alice.getTweet(`${ULID_LIKE_MISSING}-${alice.id}`), 404, 'tweet_not_found');
    const tweet = await alice.createTweet({ text: 'mine' });
    expectError(await bob.deleteTweet(tweet.body.tweet_id), 404, 'tweet_not_found');
    expect((await alice.getTweet(tweet.body.tweet_id)).status).toBe(200);
  });

  it('deletes a tweet everywhere: by id, from the author and from followers', async () => {
    const dave = newUser('dave');
    const erin = newUser('erin');
    expect((await erin.follow(dave.id)).status).toBe(204);
    const tweet = (await dave.createTweet({ text: 'soon gone' })).body;
    await eventually('the tweet in the follower timeline', async () => {
      const page = await erin.timeline();
      return page.body.tweets.some((t) => t.tweet_id === tweet.tweet_id) ? true : undefined;
    });

    const deleted = await dave.deleteTweet(tweet.tweet_id);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await erin.getTweet(tweet.tweet_id), 404, 'tweet_not_found');
    expectError(await dave.deleteTweet(tweet.tweet_id), 404, 'tweet_not_found');
    const own = await dave.userTweets(dave.id);
    expect(own.body.tweets.map((t) => t.tweet_id)).not.toContain(tweet.tweet_id);
    await eventually('the tweet to leave every timeline', async () => {
      const [home, author] = await Promise.all([erin.timeline(), dave.timeline()]);
      const ids = [...home.body.tweets, ...author.body.tweets].map((t) => t.tweet_id);
      return ids.includes(tweet.tweet_id) ? undefined : true;
    });
  });

  it('turns concurrent retries with one Idempotency-Key into exactly one tweet', async () => {
    const frank = newUser('frank');
    const body = { text: 'exactly once' };
    const idempotencyKey = `key-${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => frank.createTweet(body, idempotencyKey)),
    );
    for (const response of responses) expect([200, 201]).toContain(response.status);
    const ids = new Set(responses.map((r) => r.body.tweet_id));
    expect(ids.size).toBe(1);
    const again = await frank.createTweet(body, idempotencyKey);
    expect([200, 201]).toContain(again.status);
    expect(again.body.tweet_id).toBe([...ids][0]);
    const page = await frank.userTweets(frank.id);
    expect(page.body.tweets.map((t) => t.tweet_id)).toEqual([...ids]);

    expectError(
      await frank.createTweet({ text: 'something else' }, idempotencyKey),
      422,
      'idempotency_key_reused',
    );
  });
});
