import './setup-env';
import { expect } from '@jest/globals';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createTweetHandler } from '../../lambdas/http/create-tweet';
import { handler as getTweetHandler } from '../../lambdas/http/get-tweet';
import { handler as initMediaHandler } from '../../lambdas/http/init-media';
import { METADATA_KEYS } from '../../app/model';
import { dynamo, tables } from '../../lambdas/platform/clients';
import { errorCode, httpEvent, newUser, parse } from './harness';

const create = async (user: string, body: unknown, headers: Record<string, string> = {}) =>
  parse(await createTweetHandler(httpEvent('POST /v1/tweets', { user, body, headers })));

const get = async (user: string, tweetId: string) =>
  parse(
    await getTweetHandler(
      httpEvent('GET /v1/tweets/{tweet_id}', { user, pathParameters: { tweet_id: tweetId } }),
    ),
  );

async function initMedia(user: string, contentType = 'image/png', size = 1234): Promise<string> {
  const result = parse(
    await initMediaHandler(
      httpEvent('POST /v1/media/init', {
        user,
        body: { content_type: contentType, size_bytes: size },
      }),
    ),
  );
  expect(result.status).toBe(201);
  return result.body.media_id as string;
}

async function tweetsOf(user: string): Promise<Record<string, unknown>[]> {
  const out = await dynamo.send(
    new QueryCommand({
      TableName: tables.tweets,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': user },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('create-tweet', () => {
  it('creates a text tweet whose id names its author and reads it back', async () => {
    const user = newUser();
    const created = await create(user, { text: 'hello world' });
    expect(created.status).toBe(201);
    const tweetId = created.body.tweet_id as string;
    expect(tweetId).toMatch(new RegExp(`^[0-9A-HJKMNP-TV-Z]{26}-${user}$`));
    expect(created.body).toEqual({
      tweet_id: tweetId,
      user_id: user,
      text: 'hello world',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      media: [],
      // The first call created the author's profile; this id is no valid handle, so one is generated.
      author: {
        handle: expect.stringMatching(/^user_[0-9a-f]{12}$/),
        display_name: '',
        avatar_url: null,
      },
    });
    const read = await get(newUser(), tweetId);
    expect(read).toMatchObject({ status: 200, body: created.body });
  });

  it('normalises text to NFC and counts code points, not UTF-16 units', async () => {
    const user = newUser();
    const emoji = '😀'.repeat(280); // 560 UTF-16 units, 280 code points
    expect((await create(user, { text: emoji })).status).toBe(201);
    const decomposed = 'e\u0301'.repeat(280); // NFC: 280 x é
    const created = await create(user, { text: decomposed });
    expect(created.status).toBe(201);
    expect(created.body.text).toBe('\u00e9'.repeat(280));
    expect(errorCode(await create(user, { text: '😀'.repeat(281) }))).toBe('text_too_long');
    expect(errorCode(await create(user, { text: 'x'.repeat(1_000_000) }))).toBe('text_too_long');
  });

  it('returns tab and newline byte-exact and rejects other control characters', async () => {
    const user = newUser();
    const text = 'line one\n\tline two\r\n';
    const created = await create(user, { text });
    expect(created.body.text).toBe(text);
    expect((await get(user, created.body.tweet_id as string)).body.text).toBe(text);
    for (const bad of ['nul\u0000', 'bell\u0007', 'del\u007f', 'lone \ud800 surrogate']) {
      const result = await create(user, { text: bad });
      expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
    }
  });

  it.each([
    ['a missing text', {}],
    ['a number as text', { text: 5 }],
    ['empty text without media', { text: '' }],
    ['media_ids that is not an array', { text: 'x', media_ids: 'abc' }],
    ['media_ids holding a number', { text: 'x', media_ids: [1] }],
    ['media_ids holding a huge string', { text: 'x', media_ids: ['A'.repeat(100_000)] }],
    [
      'a repeated media id',
      { text: 'x', media_ids: ['01J00000000000000000000000', '01J00000000000000000000000'] },
    ],
  ])('rejects %s with 400 invalid_request and writes nothing', async (_, body) => {
    const user = newUser();
    const result = await create(user, body);
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
    expect(await tweetsOf(user)).toEqual([]);
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a number', '42'],
    ['malformed JSON', '{"text": '],
  ])('rejects %s as the body', async (_, rawBody) => {
    const user = newUser();
    const result = parse(await createTweetHandler(httpEvent('POST /v1/tweets', { user, rawBody })));
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
  });

  it('rejects invalid UTF-8 and a wrong content type', async () => {
    const user = newUser();
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"text":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const a = parse(
      await createTweetHandler(httpEvent('POST /v1/tweets', { user, base64Body: invalidUtf8 })),
    );
    expect([a.status, errorCode(a)]).toEqual([400, 'invalid_request']);
    const b = parse(
      await createTweetHandler(
        httpEvent('POST /v1/tweets', {
          user,
          body: { text: 'x' },
          headers: { 'content-type': 'text/plain' },
        }),
      ),
    );
    expect([b.status, errorCode(b)]).toEqual([400, 'invalid_request']);
    expect(await tweetsOf(user)).toEqual([]);
  });

  it('requires a caller', async () => {
    const result = parse(
      await createTweetHandler(httpEvent('POST /v1/tweets', { user: null, body: { text: 'x' } })),
    );
    expect([result.status, errorCode(result)]).toEqual([401, 'unauthorized']);
  });

  it('attaches up to four images, which become readable by anyone', async () => {
    const user = newUser();
    const ids = [
      await initMedia(user),
      await initMedia(user),
      await initMedia(user),
      await initMedia(user),
    ];
    const created = await create(user, { text: '', media_ids: ids });
    expect(created.status).toBe(201);
    const media = created.body.media as Record<string, unknown>[];
    expect(media.map((m) => m.media_id)).toEqual(ids);
    expect(media[0]).toMatchObject({
      status: 'pending_upload',
      content_type: 'image/png',
      size_bytes: 1234,
      alt_text: null,
      variants: [],
      failure: null,
    });
    const stored = await dynamo.send(
      new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.media(ids[0] ?? '') }),
    );
    expect(stored.Item).toMatchObject({ tweet_id: created.body.tweet_id });
    expect(stored.Item?.expires_at).toBeUndefined();
    expect(stored.Item?.gsi2pk).toBeUndefined();
  });

  it('refuses a fifth media and a GIF or video with anything else', async () => {
    const user = newUser();
    const five = await Promise.all([1, 2, 3, 4, 5].map(() => initMedia(user)));
    const tooMany = await create(user, { text: 'x', media_ids: five });
    expect([tooMany.status, errorCode(tooMany)]).toEqual([400, 'too_many_media']);
    const gif = await initMedia(user, 'image/gif');
    const withGif = await create(user, { text: 'x', media_ids: [gif, five[0]] });
    expect([withGif.status, errorCode(withGif)]).toEqual([400, 'too_many_media']);
    const video = await initMedia(user, 'video/mp4', 10_000);
    expect((await create(user, { text: 'x', media_ids: [five[1], video] })).status).toBe(400);
    expect((await create(user, { text: 'only the video', media_ids: [video] })).status).toBe(201);
    expect((await tweetsOf(user)).length).toBe(1);
  });

  it('maps missing, foreign, failed and attached media to 422 and attaches nothing', async () => {
    const user = newUser();
    const mine = await initMedia(user);
    const foreign = await initMedia(newUser());
    const failed = await initMedia(user);
    await dynamo.send(
      new UpdateCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.media(failed),
        UpdateExpression: 'SET #s = :f',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':f': 'failed' },
      }),
    );
    const cases: [string[], string][] = [
      [[mine, '01J00000000000000000000000'], 'media_not_found'],
      [[mine, foreign], 'media_not_found'],
      [[mine, failed], 'media_failed'],
    ];
    for (const [mediaIds, code] of cases) {
      const result = await create(user, { text: 'x', media_ids: mediaIds });
      expect([result.status, errorCode(result)]).toEqual([422, code]);
    }
    const record = await dynamo.send(
      new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.media(mine) }),
    );
    expect(record.Item?.tweet_id).toBeUndefined();
    expect((await create(user, { text: 'first', media_ids: [mine] })).status).toBe(201);
    const again = await create(user, { text: 'second', media_ids: [mine] });
    expect([again.status, errorCode(again)]).toEqual([422, 'media_already_attached']);
    expect((await tweetsOf(user)).length).toBe(1);
  });
});

describe('create-tweet idempotency', () => {
  it('returns the same tweet for the same key and body, and 422 for another body', async () => {
    const user = newUser();
    const headers = { 'Idempotency-Key': 'key-1' };
    const first = await create(user, { text: 'once' }, headers);
    const second = await create(user, { text: 'once' }, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.tweet_id).toBe(first.body.tweet_id);
    const other = await create(user, { text: 'twice' }, headers);
    expect([other.status, errorCode(other)]).toEqual([422, 'idempotency_key_reused']);
    // Keys are per user.
    expect((await create(newUser(), { text: 'twice' }, headers)).status).toBe(201);
    expect((await tweetsOf(user)).length).toBe(1);
  });

  it('makes exactly one tweet from ten concurrent identical requests, with media', async () => {
    const user = newUser();
    const media = await initMedia(user);
    const body = { text: 'concurrent', media_ids: [media] };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => create(user, body, { 'Idempotency-Key': 'same' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect(new Set(results.map((r) => r.body.tweet_id)).size).toBe(1);
    expect((await tweetsOf(user)).length).toBe(1);
  });

  it('rejects an over-long or non-ASCII key', async () => {
    const user = newUser();
    for (const key of ['k'.repeat(129), 'ключ']) {
      const result = await create(user, { text: 'x' }, { 'Idempotency-Key': key });
      expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
    }
    expect((await create(user, { text: 'x' }, { 'Idempotency-Key': 'k'.repeat(128) })).status).toBe(
      201,
    );
  });
});
