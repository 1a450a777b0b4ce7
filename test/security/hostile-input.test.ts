/**
 * Hostile input on every route: a corpus of malformed bodies, bad ids and bad paging, plus
 * property-based generators (fast-check). Every case must get a 4xx with a JSON error code (or, for
 * what API Gateway itself refuses before any handler runs, its own JSON {"message"} body), never a
 * 5xx, and must change nothing: the stored state of the users involved is read straight from
 * DynamoDB Local and the S3 emulator before and after, and compared.
 */
import fc from 'fast-check';
import { LIMITS, USER_ID_PATTERN } from '../../app/model';
import { encodeCursor } from '../../lambdas/core/validation';
import { errorCode, jsonOf, type RawResponse } from '../../soak/http';
import {
  CheckedRawClient,
  newUser,
  type TestUser,
  type TweetBody,
  type PageBody,
} from '../support/api-client';
import { apiContract } from '../support/contract';
import { apiUrl } from '../support/env';
import { stateReader, type StateReader } from './state';

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** API Gateway answers before the handler (no route, payload too large): {"message"} body. */
  readonly gateway?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** A valid media id / tweet id shape, for the cases that must fail on something else. */
const SOME_MEDIA_ID = '01J0000000000000000000000A';

/** A path segment as API Gateway hands it to the handler: percent-decoded once, if it can be. */
function decodedOnce(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function expectRejected(response: RawResponse, testCase: Case): void {
  const where = `${testCase.name}: ${testCase.method} ${testCase.path.slice(0, 80)} -> ${response.status} ${response.body.toString('utf8').slice(0, 200)}`;
  if (response.status < 400 || response.status >= 500) throw new Error(`not a 4xx: ${where}`);
  const body = jsonOf(response) as { error?: { code?: unknown }; message?: unknown } | undefined;
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  if (testCase.gateway === true && typeof body?.message === 'string' && body.error === undefined) {
    return;
  }
  if (typeof body?.error?.code !== 'string' || body.error.code === '') {
    throw new Error(`no JSON error code: ${where}`);
  }
}

describe('hostile input on every route', () => {
  let state: StateReader;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let api: CheckedRawClient;
  let aliceTweet: TweetBody;
  let bobTweet: TweetBody;
  let users: string[];

  beforeAll(async () => {
    state = stateReader();
    alice = newUser('hostile-alice');
    bob = newUser('hostile-bob');
    carol = newUser('hostile-carol');
    users = [alice.id, bob.id, carol.id];
    api = new CheckedRawClient(apiUrl(), alice.token);
    // Some state to protect: tweets, a follow edge, an unattached media record.
    aliceTweet = (await alice.createTweet({ text: 'alice was here' })).body;
    bobTweet = (await bob.createTweet({ text: 'bob was here' })).body;
    await carol.createTweet({ text: 'carol, only in bob\u2019s home timeline' });
    expect((await alice.follow(bob.id)).status).toBe(204);
    expect((await bob.follow(carol.id)).status).toBe(204);
    const init = await alice.initMedia({ content_type: 'image/png', size_bytes: 100 });
    expect(init.status).toBe(201);
  });

  afterAll(() => state.close());

  async function runCases(cases: readonly Case[]): Promise<void> {
    const before = await state.snapshot(users);
    for (const testCase of cases) {
      const response = await api.send(testCase.method, testCase.path, {
        ...(testCase.headers !== undefined ? { headers: testCase.headers } : {}),
        ...(testCase.body !== undefined ? { body: testCase.body } : {}),
      });
      expectRejected(response, testCase);
    }
    expect(await state.snapshot(users)).toBe(before);
  }

  const bodyRoutes = [
    { route: 'POST /v1/tweets', method: 'POST', path: '/v1/tweets' },
    { route: 'POST /v1/media/init', method: 'POST', path: '/v1/media/init' },
    { route: 'PUT /v1/me/profile', method: 'PUT', path: '/v1/me/profile' },
  ];

  it.each(bodyRoutes)(
    '$route: malformed bodies, wrong types and wrong Content-Type',
    async ({ method, path }) => {
      const json = (value: unknown): Partial<Case> => ({
        body: JSON.stringify(value),
        headers: JSON_TYPE,
      });
      const corpus: [string, Partial<Case>][] = [
        ['no body', { headers: JSON_TYPE }],
        ['empty body', { body: '', headers: JSON_TYPE }],
        ['truncated JSON', { body: '{"text": "hi"', headers: JSON_TYPE }],
        ['unquoted keys', { body: '{text: hi}', headers: JSON_TYPE }],
        ['trailing comma', { body: '{"text":"hi",}', headers: JSON_TYPE }],
        ['NaN literal', { body: '{"size_bytes": NaN}', headers: JSON_TYPE }],
        ['two documents', { body: '{"text":"a"}{"text":"b"}', headers: JSON_TYPE }],
        ['array body', json([{ text: 'hi', content_type: 'image/png', size_bytes: 1 }])],
        ['null body', json(null)],
        ['number body', json(42)],
        ['string body', json('text')],
        ['boolean body', json(true)],
        ['empty object', json({})],
        ['text a number', json({ text: 5 })],
        ['text null', json({ text: null })],
        ['text an array', json({ text: ['a'] })],
        ['text an object', json({ text: { toString: 'x' } })],
        ['content_type a number', json({ content_type: 5, size_bytes: 10 })],
        ['size_bytes a string', json({ content_type: 'image/png', size_bytes: '10' })],
        ['size_bytes negative', json({ content_type: 'image/png', size_bytes: -1 })],
        ['size_bytes zero', json({ content_type: 'image/png', size_bytes: 0 })],
        ['size_bytes fractional', json({ content_type: 'image/png', size_bytes: 1.5 })],
        ['size_bytes 1e300', json({ content_type: 'image/png', size_bytes: 1e300 })],
        ['alt_text a number', json({ content_type: 'image/png', size_bytes: 10, alt_text: 5 })],
        [
          'alt_text over 1000',
          json({ content_type: 'image/png', size_bytes: 10, alt_text: 'a'.repeat(1001) }),
        ],
        ['content_type with parameters', json({ content_type: 'image/png; x=1', size_bytes: 10 })],
        ['content_type text/html', json({ content_type: 'text/html', size_bytes: 10 })],
        ['content_type empty', json({ content_type: '', size_bytes: 10 })],
        ['content_type __proto__', json({ content_type: '__proto__', size_bytes: 10 })],
        [
          '__proto__ pollution',
          {
            body: '{"__proto__":{"text":"x","content_type":"image/png","size_bytes":1}}',
            headers: JSON_TYPE,
          },
        ],
        [
          'invalid UTF-8',
          {
            body: Buffer.concat([
              Buffer.from('{"text":"'),
              Buffer.from([0xff, 0xfe, 0xc3]),
              Buffer.from('","content_type":"image/png","size_bytes":5}'),
            ]),
            headers: JSON_TYPE,
          },
        ],
        [
          'overlong UTF-8 encoding of "/"',
          {
            body: Buffer.concat([
              Buffer.from('{"text":"'),
              Buffer.from([0xc0, 0xaf]),
              Buffer.from('"}'),
            ]),
            headers: JSON_TYPE,
          },
        ],
        [
          'lone surrogate escape',
          {
            body: '{"text":"\\ud800","content_type":"image/png","size_bytes":1,"alt_text":"\\udfff"}',
            headers: JSON_TYPE,
          },
        ],
        [
          '1 MB text',
          json({
            text: 'a'.repeat(1024 * 1024),
            content_type: 'image/png',
            size_bytes: 10,
            alt_text: 'b'.repeat(1024 * 1024),
          }),
        ],
        [
          'wrong Content-Type text/plain',
          {
            body: JSON.stringify({ text: 'hi', content_type: 'image/png', size_bytes: 10 }),
            headers: { 'content-type': 'text/plain' },
          },
        ],
        [
          'form encoded',
          {
            body: 'text=hi&content_type=image%2Fpng&size_bytes=10',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
        ],
        [
          'multipart',
          {
            body: '--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--x--',
            headers: { 'content-type': 'multipart/form-data; boundary=x' },
          },
        ],
        ['XML', { body: '<text>hi</text>', headers: { 'content-type': 'application/xml' } }],
        [
          'octet-stream',
          {
            body: Buffer.from([0, 1, 2, 3]),
            headers: { 'content-type': 'application/octet-stream' },
          },
        ],
      ];
      await runCases(corpus.map(([name, extra]) => ({ name, method, path, ...extra })));
    },
  );

  it.each(bodyRoutes)(
    "$route: a body over the API payload limit gets API Gateway's 413",
    async ({ method, path }) => {
      await runCases([
        {
          name: 'over 10 MB',
          method,
          path,
          headers: JSON_TYPE,
          body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
          gateway: true,
        },
      ]);
    },
  );

  it('POST /v1/tweets: bad media_ids, bad Idempotency-Keys, control characters', async () => {
    const post = (name: string, value: unknown, headers: Record<string, string> = {}): Case => ({
      name,
      method: 'POST',
      path: '/v1/tweets',
      headers: { ...JSON_TYPE, ...headers },
      body: JSON.stringify(value),
    });
    await runCases([
      post('media_ids a string', { text: 'x', media_ids: SOME_MEDIA_ID }),
      post('media_ids an object', { text: 'x', media_ids: { 0: SOME_MEDIA_ID } }),
      post('media_ids a number', { text: 'x', media_ids: 1 }),
      post('media_ids of numbers', { text: 'x', media_ids: [1, 2] }),
      post('media_ids of null', { text: 'x', media_ids: [null] }),
      post('media_ids nested', { text: 'x', media_ids: [[SOME_MEDIA_ID]] }),
      post('media_ids empty string', { text: 'x', media_ids: [''] }),
      post('media_ids traversal', { text: 'x', media_ids: ['../../etc/passwd'] }),
      post('media_ids key injection', { text: 'x', media_ids: ['MEDIA#x'] }),
      post('media_ids a huge string', { text: 'x', media_ids: ['A'.repeat(200_000)] }),
      post('media_ids 5 ids', {
        text: 'x',
        media_ids: Array.from({ length: 5 }, (_, i) => `01J000000000000000000000${i}A`),
      }),
      post('media_ids 10,000 ids', {
        text: 'x',
        media_ids: Array.from({ length: 10_000 }, () => SOME_MEDIA_ID),
      }),
      post('media_ids repeated', { text: 'x', media_ids: [SOME_MEDIA_ID, SOME_MEDIA_ID] }),
      post('media_ids unknown media', { text: 'x', media_ids: [SOME_MEDIA_ID] }),
      post('empty text, no media', { text: '' }),
      post('281 code points', { text: '\u{1F426}'.repeat(281) }),
      post('NUL in text', { text: 'a\u0000b' }),
      post('BEL in text', { text: 'ding\u0007' }),
      post('ANSI escape in text', { text: '\u001b[31mred\u001b[0m' }),
      post('DEL in text', { text: 'a\u007fb' }),
      post('vertical tab in text', { text: 'a\u000bb' }),
      post('Idempotency-Key over 128', { text: 'x' }, { 'idempotency-key': 'k'.repeat(129) }),
      post('Idempotency-Key non-ASCII', { text: 'x' }, { 'idempotency-key': 'cl\u00e9' }),
      post('Idempotency-Key empty', { text: 'x' }, { 'idempotency-key': '' }),
    ]);
  });

  it('accepts tab, newline, CR and other non-C0 characters byte-exact, and rejects other C0 controls', async () => {
    const text =
      'tab\there\nnew line\r\nCR, zero\u200Bwidth, bidi \u202Eoverride\u202C, line sep \u2028, nbsp\u00a0, \u{1F426}';
    const created = await alice.createTweet({ text });
    expect(created.status).toBe(201);
    expect(created.body.text).toBe(text);
    const read = await api.send('GET', `/v1/tweets/${encodeURIComponent(created.body.tweet_id)}`);
    expect(read.status).toBe(200);
    // Byte-exact: the JSON the API returns decodes to exactly the UTF-8 bytes that were sent.
    const back = (jsonOf(read) as TweetBody).text;
    expect(Buffer.from(back, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect((await alice.deleteTweet(created.body.tweet_id)).status).toBe(204);
  });

  it('rejects bad ids in every path parameter', async () => {
    const badIds = [
      '..',
      '.',
      '%2e%2e',
      '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '..%2F..%2Fetc%2Fpasswd',
      '..%5C..%5Cwindows',
      '%252e%252e%252f',
      'A'.repeat(129),
      'A'.repeat(5000),
      '%C3%A9t%C3%A9',
      '%E2%80%AE',
      '%F0%9F%90%A6',
      '%00',
      '%FF%FE',
      'x%0D%0ASet-Cookie:%20a=b',
      'USER%23x',
      'MEDIA%23x',
      '%27%20OR%201=1--',
      '*',
      'x%20y',
      'a%2Fb',
    ];
    const tweetIdShape = `01J0000000000000000000000A-${'%2E%2E'}`;
    const cases: Case[] = [];
    for (const id of [...badIds, tweetIdShape]) {
      cases.push({ name: `get tweet ${id}`, method: 'GET', path: `/v1/tweets/${id}` });
      cases.push({ name: `delete tweet ${id}`, method: 'DELETE', path: `/v1/tweets/${id}` });
      cases.push({ name: `get media ${id}`, method: 'GET', path: `/v1/media/${id}` });
      // No bad id is a handle (3-30 of [A-Za-z0-9_]): each is user_not_found.
      cases.push({ name: `user by handle ${id}`, method: 'GET', path: `/v1/profiles/${id}` });
      // '.', '..' (and '%2e%2e', which decodes to it) match the user id pattern
      // [A-Za-z0-9._-]{1,128}: they are legal user ids, so only the others must be refused.
      if (USER_ID_PATTERN.test(decodedOnce(id))) continue;
      cases.push({ name: `user tweets ${id}`, method: 'GET', path: `/v1/users/${id}/tweets` });
      cases.push({ name: `follow ${id}`, method: 'PUT', path: `/v1/users/${id}/follow` });
      cases.push({ name: `unfollow ${id}`, method: 'DELETE', path: `/v1/users/${id}/follow` });
    }
    // Raw traversal segments change the route shape: API Gateway finds no route.
    for (const path of [
      '/v1/tweets/../users/x/follow',
      '/v1/media/../../v1/tweets',
      '/v1/users/../../follow',
    ]) {
      cases.push({ name: `raw ${path}`, method: 'PUT', path, gateway: true });
    }
    cases.push({ name: 'follow yourself', method: 'PUT', path: `/v1/users/${alice.id}/follow` });
    await runCases(cases);
  });

  it('rejects bad limits and cursors, including a 5,000-character one', async () => {
    const cases: Case[] = [];
    const lists = ['/v1/timeline', `/v1/users/${bob.id}/tweets`];
    for (const list of lists) {
      for (const limit of [
        '-1',
        '0',
        '101',
        '1e9',
        '1000000000',
        'abc',
        '',
        '1.5',
        '0x10',
        '%205',
        '5%00',
        '1&limit=2',
        '%EF%BC%95',
      ]) {
        cases.push({ name: `limit=${limit}`, method: 'GET', path: `${list}?limit=${limit}` });
      }
      for (const cursor of [
        'x'.repeat(5000),
        '!!!',
        'a',
        '%00',
        encodeCursor(['h1', '1']),
        encodeCursor(['u1']),
        'aGVsbG8=',
        encodeCursor(['h1', '9999', bobTweet.tweet_id]),
        encodeCursor(['zz', '1', bobTweet.tweet_id]),
      ]) {
        cases.push({
          name: `cursor=${cursor.slice(0, 20)}`,
          method: 'GET',
          path: `${list}?cursor=${encodeURIComponent(cursor)}`,
        });
      }
    }
    // A user-tweets cursor is bound to its user: one made from Bob's tweet cannot page Carol's.
    cases.push({
      name: "another user's tweet in a user-tweets cursor",
      method: 'GET',
      path: `/v1/users/${carol.id}/tweets?cursor=${encodeCursor(['u1', bobTweet.tweet_id])}`,
    });
    await runCases(cases);
  });

  it("a forged home cursor pointing at another user's data shows only the caller's own timeline", async () => {
    // Carol's tweet is in Bob's home timeline (he follows her), not in Alice's (she follows Bob).
    const carolTweet = (await carol.createTweet({ text: 'carol again' })).body;
    const newer = (await bob.createTweet({ text: 'bob, newest' })).body;
    const allowed = new Set([alice.id, bob.id]);
    for (const before of [
      newer.tweet_id,
      carolTweet.tweet_id,
      `${'7ZZZZZZZZZZZZZZZZZZZZZZZZZ'}-${carol.id}`,
    ]) {
      const cursor = encodeCursor(['h1', '0', before]);
      const response = await api.send('GET', `/v1/timeline?limit=100&cursor=${cursor}`);
      expect(response.status).toBe(200);
      const page = jsonOf(response) as PageBody;
      for (const tweet of page.tweets) expect(allowed.has(tweet.user_id)).toBe(true);
      expect(page.tweets.some((t) => t.user_id === carol.id)).toBe(false);
    }
    // The same position in Alice's own timeline, without the forged cursor, still holds Bob's and Alice's tweets.
    const own = jsonOf(await api.send('GET', '/v1/timeline?limit=100')) as PageBody;
    expect(own.tweets.map((t) => t.tweet_id)).toEqual(
      expect.arrayContaining([aliceTweet.tweet_id, bobTweet.tweet_id]),
    );
  });

  describe('property-based', () => {
    const runs = { numRuns: 40 };

    it('POST /v1/tweets with a non-string text, or an object of anything else, is a 4xx and writes nothing', async () => {
      const before = await state.snapshot(users);
      const notAString = fc.oneof(
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.record({
              text: notAString,
              media_ids: fc.option(fc.jsonValue(), { nil: undefined }),
            }),
            fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
          ),
          async (body) => {
            const response = await api.send('POST', '/v1/tweets', { json: body });
            expectRejected(response, {
              name: 'generated body',
              method: 'POST',
              path: '/v1/tweets',
            });
          },
        ),
        runs,
      );
      expect(await state.snapshot(users)).toBe(before);
    });

    it('arbitrary bytes as a JSON body never yield a 5xx', async () => {
      const before = await state.snapshot(users);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom('/v1/tweets', '/v1/media/init'),
          async (bytes, path) => {
            const response = await api.send('POST', path, {
              body: Buffer.from(bytes),
              headers: JSON_TYPE,
            });
            expectRejected(response, {
              name: `bytes ${Buffer.from(bytes).toString('hex').slice(0, 40)}`,
              method: 'POST',
              path,
            });
          },
        ),
        runs,
      );
      expect(await state.snapshot(users)).toBe(before);
    });

    it('arbitrary strings as ids, limits and cursors never yield a 5xx, and ids never resolve', async () => {
      const before = await state.snapshot(users);
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
          fc.constantFrom('tweet', 'media', 'delete', 'limit', 'cursor'),
          async (raw, where) => {
            const encoded = encodeURIComponent(raw);
            const path = {
              tweet: `/v1/tweets/${encoded}`,
              media: `/v1/media/${encoded}`,
              delete: `/v1/tweets/${encoded}`,
              limit: `/v1/timeline?limit=${encoded}`,
              cursor: `/v1/users/${bob.id}/tweets?cursor=${encoded}`,
            }[where];
            const method = where === 'delete' ? 'DELETE' : 'GET';
            const response = await api.send(method, path);
            // A generated limit can be a valid one ("7"); anything else must be refused.
            if (
              where === 'limit' &&
              /^[0-9]{1,3}$/.test(raw) &&
              Number(raw) >= 1 &&
              Number(raw) <= 100
            ) {
              expect(response.status).toBe(200);
              return;
            }
            expectRejected(response, {
              name: `${where} ${JSON.stringify(raw).slice(0, 60)}`,
              method,
              path,
            });
          },
        ),
        { numRuns: 80 },
      );
      expect(await state.snapshot(users)).toBe(before);
    });
  });
});

/**
 * The document decides: a body openapi.yaml's request schema refuses is refused by the handler,
 * and a body it accepts is accepted, except for the rules the document states in prose because
 * JSON Schema cannot express them (code points after NFC, empty text without media, sizes per
 * type, unknown media types, media that must exist).
 */
describe('request bodies, as openapi.yaml declares them', () => {
  const validTweet = apiContract().requestBodyValidator('POST', '/v1/tweets');
  const validInit = apiContract().requestBodyValidator('POST', '/v1/media/init');
  let client: CheckedRawClient;

  beforeAll(() => {
    client = new CheckedRawClient(apiUrl(), newUser('document-decides').token);
  });

  const codePoints = (text: string) => [...text.normalize('NFC')].length;
  const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

  it('POST /v1/tweets', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', minLength: 270, maxLength: 290 }),
      fc.constant(''),
      fc.integer(),
      fc.constant(null),
    );
    const mediaIds = fc.oneof(
      fc.constant([]),
      fc.array(fc.constantFrom(SOME_MEDIA_ID, '01J0000000000000000000000B', 'not-an-id', 7), {
        maxLength: 6,
      }),
      fc.constant('01J0000000000000000000000A'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({ text, media_ids: mediaIds }, { requiredKeys: [] }),
        async (body) => {
          const response = await client.send('POST', '/v1/tweets', { json: body });
          if (!validTweet(body)) {
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
            return;
          }
          const value = body as { text: string; media_ids?: string[] };
          const hasMedia = (value.media_ids ?? []).length > 0;
          let expected: [number, string | undefined];
          if (LONE_SURROGATE.test(value.text)) expected = [400, 'invalid_request'];
          else if (codePoints(value.text) > 280) expected = [400, 'text_too_long'];
          else if ((value.media_ids ?? []).length > 4) expected = [400, 'too_many_media'];
          else if (value.text === '' && !hasMedia) expected = [400, 'invalid_request'];
          else if (hasMedia) expected = [422, 'media_not_found'];
          else expected = [201, undefined];
          expect([response.status, errorCode(response)]).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('POST /v1/media/init', async () => {
    const contentType = fc.constantFrom(
      'image/jpeg',
      'IMAGE/PNG',
      'video/mp4',
      'image/bmp',
      '',
      7,
      null,
    );
    const size = fc.oneof(
      fc.integer({ min: -2, max: 20 * 1024 * 1024 }),
      fc.constantFrom(0, 1.5, '10', 16 * 1024 * 1024, 16 * 1024 * 1024 + 1),
    );
    const alt = fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null), fc.integer());
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { content_type: contentType, size_bytes: size, alt_text: alt },
          { requiredKeys: [] },
        ),
        async (body) => {
          const response = await client.send('POST', '/v1/media/init', { json: body });
          if (!validInit(body)) {
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
            return;
          }
          const value = body as { content_type: string; size_bytes: number; alt_text?: string };
          const limit = LIMITS.mediaTypes[value.content_type.toLowerCase()];
          let expected: [number, string | undefined];
          if (limit === undefined) expected = [415, 'unsupported_media_type'];
          else if (value.size_bytes > limit) expected = [413, 'media_too_large'];
          else if (typeof value.alt_text === 'string' && LONE_SURROGATE.test(value.alt_text)) {
            expected = [400, 'invalid_request'];
          } else expected = [201, undefined];
          expect([response.status, errorCode(response)]).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});
