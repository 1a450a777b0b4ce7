/**
 * Authorization: nobody acts as someone else. Over HTTP against the shared local stack:
 * - another user's tweets cannot be deleted, another user's unattached media cannot be read or
 *   attached, and Idempotency-Keys are per user;
 * - follow routes act only for the token's subject, whatever else the request claims;
 * - nobody edits another's profile: PUT /v1/me/profile changes only the token subject's, whatever
 *   the body or query names, and cannot take another's handle or media as an avatar;
 * - claims other than `sub` never choose the caller, and a `sub` that is not a user id is a 401;
 * - a presigned upload URL stops working when it expires (time is controlled by presigning through
 *   the same domain function, initMedia, with a clock set back, since the route fixes 900 s), and
 *   re-using it after processing changes nothing that is served;
 * - the CDN never serves originals, however the path is spelled.
 * The JWT checks themselves (alg none, wrong key, expired, tampered, issuer, audience...) are in
 * test/e2e/authorizer.test.ts, and another key / length / content type for a presigned URL in
 * test/e2e/media.test.ts; they are not repeated here.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import { initMedia } from '../../lambdas/core/media/upload';
import { signJwt } from '../../local/jwt';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER } from '../../local/jwt';
import { rawRequest } from '../../soak/http';
import {
  errorOf,
  eventually,
  newUser,
  untypedRequest,
  type InitMediaBody,
  type TestUser,
  type TweetBody,
} from '../support/api-client';
import { cdnUrl, stackSigningKey } from '../support/env';
import { stackClients } from './state';
import { documentStore } from '../../lambdas/platform/document-store';
import { generatePng, upload, uploadMedia } from '../support/media';

const clients = stackClients();
const { dynamo, s3, tables } = clients;

afterAll(() => clients.close());

async function edgeExists(follower: string, followee: string): Promise<boolean> {
  const [out, back] = await Promise.all([
    dynamo.send(
      new GetCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.follows(follower, followee),
        ConsistentRead: true,
      }),
    ),
    dynamo.send(
      new GetCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.follower(followee, follower),
        ConsistentRead: true,
      }),
    ),
  ]);
  // Both directions always agree.
  expect(out.Item !== undefined).toBe(back.Item !== undefined);
  return out.Item !== undefined;
}

async function tweet(user: TestUser, text: string, mediaIds?: string[]): Promise<TweetBody> {
  const response = await user.createTweet({
    text,
    ...(mediaIds ? { media_ids: mediaIds } : {}),
  });
  expect(response.status).toBe(201);
  return response.body;
}

async function initOnly(user: TestUser): Promise<InitMediaBody> {
  const response = await user.initSinglePut({
    content_type: 'image/png',
    size_bytes: 1000,
  });
  expect(response.status).toBe(201);
  return response.body;
}

describe("another user's tweets and media", () => {
  const alice = newUser('authz-alice');
  const bob = newUser('authz-bob');

  it('cannot be deleted by someone else: 404 tweet_not_found, and the tweet stays', async () => {
    const mine = await tweet(alice, 'only alice may delete this');
    for (const id of [
      mine.tweet_id,
      mine.tweet_id.toLowerCase(),
      `${mine.tweet_id}/`,
      ` ${mine.tweet_id}`,
    ]) {
      const response = await bob.deleteTweet(id);
      expect(response.status).toBe(404);
      expect(errorOf(response).error.code).toBe('tweet_not_found');
    }
    expect((await bob.getTweet(mine.tweet_id)).status).toBe(200);
    expect((await alice.getTweet(mine.tweet_id)).status).toBe(200);
  });

  it('unattached media is visible to its owner only; attached media is public', async () => {
    const unattached = await initOnly(alice);
    const attachedInit = await initOnly(alice);
    await tweet(alice, 'with media', [attachedInit.media_id]);

    expect((await alice.getMedia(unattached.media_id)).status).toBe(200);
    const hidden = await bob.getMedia(unattached.media_id);
    expect(hidden.status).toBe(404);
    expect(errorOf(hidden).error.code).toBe('media_not_found');
    const attached = await bob.getMedia(attachedInit.media_id);
    expect(attached.status).toBe(200);
    expect(attached.body.media_id).toBe(attachedInit.media_id);
  });

  it("cannot attach another user's media, unattached or attached; the owner still can", async () => {
    const unattached = await initOnly(alice);
    const attachedInit = await initOnly(alice);
    await tweet(alice, 'first owner tweet', [attachedInit.media_id]);
    for (const mediaId of [unattached.media_id, attachedInit.media_id]) {
      const stolen = await bob.createTweet({
        text: 'mine now',
        media_ids: [mediaId],
      });
      expect(stolen.status).toBe(422);
      expect(errorOf(stolen).error.code).toBe('media_not_found');
    }
    const record = await dynamo.send(
      new GetCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.media(unattached.media_id),
        ConsistentRead: true,
      }),
    );
    expect(record.Item?.owner_id).toBe(alice.id);
    expect(record.Item?.tweet_id).toBeUndefined();
    const own = await tweet(alice, 'the owner attaches it', [unattached.media_id]);
    expect(own.media.map((m) => m.media_id)).toEqual([unattached.media_id]);
  });

  it("an Idempotency-Key is the caller's own: another user's same key never returns their tweet", async () => {
    const key = `shared-key-${Date.now()}`;
    const first = await alice.createTweet({ text: 'same key' }, key);
    expect(first.status).toBe(201);
    const dave = newUser('authz-dave');
    for (const [user, body] of [
      [bob, { text: 'same key' }],
      [dave, { text: 'another body' }],
    ] as const) {
      const other = await user.createTweet(body, key);
      expect(other.status).toBe(201);
      expect(other.body.user_id).toBe(user.id);
      expect(other.body.tweet_id).not.toBe(first.body.tweet_id);
    }
  });
});

describe('follow routes act only for the token subject', () => {
  it('ignores any other claim of who the follower is, in the body, query or headers', async () => {
    const alice = newUser('authz-f-alice');
    const bob = newUser('authz-f-bob');
    const carol = newUser('authz-f-carol');
    await carol.exists(); // only a user who has called the API can be followed
    // Untyped: smuggled claims in the query, body and headers are outside the contract.
    const response = await untypedRequest(
      'PUT',
      `/v1/users/${carol.id}/follow?user_id=${alice.id}&follower=${alice.id}`,
      bob.token,
      {
        rawBody: JSON.stringify({ follower: alice.id, user_id: alice.id }),
        headers: {
          'content-type': 'application/json',
          'x-user-id': alice.id,
          'x-forwarded-user': alice.id,
        },
      },
    );
    expect(response.status).toBe(204);
    expect(await edgeExists(bob.id, carol.id)).toBe(true);
    expect(await edgeExists(alice.id, carol.id)).toBe(false);

    // Alice follows Carol herself; Bob's unfollow (with the same smuggled claims) removes only his edge.
    expect((await alice.follow(carol.id)).status).toBe(204);
    const unfollow = await untypedRequest(
      'DELETE',
      `/v1/users/${carol.id}/follow?user_id=${alice.id}`,
      bob.token,
      {
        headers: { 'x-user-id': alice.id },
      },
    );
    expect(unfollow.status).toBe(204);
    expect(await edgeExists(bob.id, carol.id)).toBe(false);
    expect(await edgeExists(alice.id, carol.id)).toBe(true);
  });

  it('takes the caller from `sub` only, never from other claims', async () => {
    const alice = newUser('authz-c-alice');
    const bob = newUser('authz-c-bob');
    const key = stackSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      key.privateKeyPem,
      { alg: 'RS256', typ: 'JWT', kid: key.kid },
      {
        iss: LOCAL_JWT_ISSUER,
        aud: LOCAL_JWT_AUDIENCE,
        sub: bob.id,
        iat: now,
        exp: now + 600,
        user_id: alice.id,
        username: alice.id,
        'cognito:username': alice.id,
        email: `${alice.id}@example.com`,
      },
    );
    // Untyped: a forged token, signed here with extra claims.
    const created = await untypedRequest<TweetBody>('POST', '/v1/tweets', token, {
      body: { text: 'who am I' },
    });
    expect(created.status).toBe(201);
    expect(created.body.user_id).toBe(bob.id);
  });

  it.each([
    ['a path traversal', '../admin'],
    ['a key separator', 'alice#FOLLOWS#bob'],
    ['an empty string', ''],
    ['129 characters', 'a'.repeat(129)],
    ['non-ASCII', '\u00e9lodie'],
    // API Gateway flattens claims to strings; an array becomes "[a b]", which is no user id.
    ['an array', ['alice', 'bob']],
  ])('answers 401 when `sub` is %s', async (_name, sub) => {
    const key = stackSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      key.privateKeyPem,
      { alg: 'RS256', typ: 'JWT', kid: key.kid },
      { iss: LOCAL_JWT_ISSUER, aud: LOCAL_JWT_AUDIENCE, sub, iat: now, exp: now + 600 },
    );
    // Untyped: a forged token whose `sub` is no user id.
    const response = await untypedRequest('PUT', '/v1/users/someone/follow', token);
    expect(response.status).toBe(401);
  });
});

describe('profiles are edited by their owner only', () => {
  it("changes only the caller's profile, whatever the request names, and takes nothing of another's", async () => {
    const alice = newUser('authz-p-alice');
    const bob = newUser('authz-p-bob');
    const aliceHandle = `authz_a_${alice.id.slice(-8)}`;
    expect((await alice.updateProfile({ handle: aliceHandle, bio: 'mine' })).status).toBe(200);
    const aliceBefore = (await alice.me()).body;
    // Untyped: the smuggled user ids are outside the contract.
    const response = await untypedRequest('PUT', `/v1/me/profile?user_id=${alice.id}`, bob.token, {
      body: { user_id: alice.id, bio: 'bob wrote this', display_name: 'Bob' },
      headers: { 'x-user-id': alice.id },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ user_id: bob.id, bio: 'bob wrote this' });
    // alice's handle is hers; so is her media, even one she never attached.
    expect(errorOf(await bob.updateProfile({ handle: aliceHandle })).error.code).toBe(
      'handle_taken',
    );
    const hers = await uploadMedia(alice, await generatePng());
    expect(errorOf(await bob.updateProfile({ avatar_media_id: hers.media_id })).error.code).toBe(
      'media_not_found',
    );
    expect((await alice.me()).body).toEqual(aliceBefore);
    expect((await bob.profile(aliceHandle)).body.user_id).toBe(alice.id);
  });
});

describe('presigned upload URLs', () => {
  const alice = newUser('authz-upload');
  const sdk = import('../../lambdas/platform/aws-sdk');
  const deps = (now: number) => ({
    // The upload domain takes a DocumentStore; this one sends through the test's own client.
    dynamo: documentStore(async () => ({ sdk: await sdk, client: dynamo })),
    s3,
    tables,
    bucket: clients.bucket,
    now: () => now,
  });

  it('stop working once expired (presigned by initMedia with the clock set back)', async () => {
    const png = await generatePng(40, 30);
    const input = { content_type: 'image/png', size_bytes: png.length, alt_text: null };

    // Signed 901 s ago: expired one second ago.
    const expired = await initMedia(
      deps(Date.now() - (LIMITS.uploadUrlExpiresSeconds + 1) * 1000),
      alice.id,
      input,
    );
    const late = await upload(expired as InitMediaBody, png);
    expect(late.status).toBe(403);
    expect(await late.text()).toMatch(/expired/i);

    // Signed 897 s ago: valid for about 3 more seconds, then the same URL is refused.
    const expiring = await initMedia(
      deps(Date.now() - (LIMITS.uploadUrlExpiresSeconds - 3) * 1000),
      alice.id,
      input,
    );
    expect((await upload(expiring as InitMediaBody, png)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 4500));
    const again = await upload(expiring as InitMediaBody, png);
    expect(again.status).toBe(403);
  });

  it('a still-valid URL cannot upload twice, and nothing served changes', async () => {
    const png = await generatePng(64, 48);
    const init = await uploadMedia(alice, png);
    const ready = await eventually(
      'the media to be ready',
      async () => {
        const media = await alice.getMedia(init.media_id);
        return media.body.status === 'ready' ? media.body : undefined;
      },
      30_000,
      200,
    );
    const variant = ready.variants[0];
    expect(variant).toBeDefined();
    const servedBefore = Buffer.from(await (await fetch(variant!.url)).arrayBuffer());

    // Same length, other bytes: the URL signs If-None-Match: *, so S3 refuses to replace the
    // original (412), and the media must not go back or change.
    const other = Buffer.from(png);
    other[other.length - 20] = (other[other.length - 20] ?? 0) ^ 0xff;
    const reused = await upload(init, other);
    expect(reused.status).toBe(412);
    expect(await reused.text()).toContain('<Code>PreconditionFailed</Code>');
    await new Promise((r) => setTimeout(r, 2000));
    const after = await alice.getMedia(init.media_id);
    expect(after.body.status).toBe('ready');
    expect(after.body.variants).toEqual(ready.variants);
    const servedAfter = Buffer.from(await (await fetch(variant!.url)).arrayBuffer());
    expect(servedAfter.equals(servedBefore)).toBe(true);
  });
});

describe('the CDN', () => {
  it('never serves an original, however the path is spelled', async () => {
    const user = newUser('authz-cdn');
    const png = await generatePng(50, 40);
    const init = await uploadMedia(user, png);
    const id = init.media_id;
    // Only media attached to a tweet is served (test/e2e/cdn-serving.test.ts).
    expect((await user.createTweet({ text: 'cdn', media_ids: [id] })).status).toBe(201);
    const ready = await eventually(
      'the media to be ready',
      async () => {
        const media = await user.getMedia(id);
        return media.body.status === 'ready' ? media.body : undefined;
      },
      30_000,
      200,
    );
    const base = cdnUrl();
    // A processed variant is served (positive control), with its own type.
    const variant = ready.variants[0]!;
    const served = await rawRequest({
      method: 'GET',
      baseUrl: base,
      path: new URL(variant.url).pathname,
    });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe(variant.content_type);

    const spellings = [
      `/uploads/${id}`,
      `/uploads/${id}?x=1`,
      `//uploads/${id}`,
      `/./uploads/${id}`,
      `/media/../uploads/${id}`,
      `/media/%2e%2e/uploads/${id}`,
      `/media/%2E%2E%2Fuploads%2F${id}`,
      `/media%2F..%2Fuploads%2F${id}`,
      `/media/..%2Fuploads%2F${id}`,
      `/media/..%5Cuploads%5C${id}`,
      `/uploads%2F${id}`,
      `/%75ploads/${id}`,
      `/UPLOADS/${id}`,
      `/media/%252e%252e/uploads/${id}`,
    ];
    for (const path of spellings) {
      for (const method of ['GET', 'HEAD']) {
        const response = await rawRequest({ method, baseUrl: base, path });
        if (response.status < 400) throw new Error(`${method} ${path} -> ${response.status}`);
        expect(response.body.includes(png)).toBe(false);
      }
    }
  });
});
