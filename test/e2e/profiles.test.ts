/**
 * Profiles over HTTP on the local stack: a user exists from their first call (any route) with a
 * generated handle; PUT /v1/me/profile sets handle, display name, bio and avatar (uploaded and
 * transcoded like any media); handles are unique case-insensitively, also under concurrent claims;
 * GET /v1/profiles/{handle} resolves a handle and says whether the caller follows that user.
 */
import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../app/model';
import { errorOf, eventually, expectError, newUser, TestUser } from '../support/api-client';
import { generatePng, uploadMedia } from '../support/media';
import { stackClients } from '../security/state';

const clients = stackClients();
afterAll(() => clients.close());

/** A handle unique to this run (handles are global, ids are per run). */
const freshHandle = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

async function claim(user: TestUser, handle = freshHandle(user.id.split('-')[0] ?? 'u')) {
  const response = await user.updateProfile({ handle });
  expect(response.status).toBe(200);
  return handle;
}

async function mediaRecord(mediaId: string) {
  const out = await clients.dynamo.send(
    new GetCommand({ TableName: clients.tables.metadata, Key: METADATA_KEYS.media(mediaId) }),
  );
  return out.Item;
}

describe('GET /v1/me', () => {
  it('creates the profile on the first call with a generated handle, then returns the same', async () => {
    const user = newUser('fresh');
    const first = await user.me();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      user_id: user.id,
      display_name: '',
      bio: '',
      avatar: null,
      follower_count: 0,
      following_count: 0,
      handle_generated: true,
    });
    // The id has a '-', so it cannot be a handle: a random one.
    expect(first.body.handle).toMatch(/^user_[0-9a-f]{12}$/);
    const again = await user.me();
    expect(again.body.handle).toBe(first.body.handle);
    // Anyone can find them by it.
    const other = newUser('finder');
    const found = await other.profile(first.body.handle);
    expect(found.status).toBe(200);
    expect(found.body.user_id).toBe(user.id);
  });

  it('generates the user id as the handle when it is a free valid handle, else a random one', async () => {
    const suffix = randomBytes(5).toString('hex');
    const plain = new TestUser(`plain_${suffix}`);
    expect((await plain.me()).body).toMatchObject({
      handle: `plain_${suffix}`,
      handle_generated: true,
    });
    // Someone else already holds the handle this id would get (in another case).
    const squatter = newUser('squatter');
    await claim(squatter, `Taken_${suffix}`);
    const late = new TestUser(`taken_${suffix}`);
    expect((await late.me()).body.handle).toMatch(/^user_[0-9a-f]{12}$/);
  });

  it('creates one profile when the first calls race', async () => {
    const user = newUser('racer');
    const answers = await Promise.all(Array.from({ length: 5 }, () => user.me()));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.body.handle)).size).toBe(1);
  });
});

describe('PUT /v1/me/profile', () => {
  it('sets handle, display name and bio, NFC-normalised, and keeps fields left out', async () => {
    const user = newUser('setter');
    const handle = freshHandle('Setter');
    const decomposed = 'Zoe\u0301 \u{1F426}';
    const response = await user.updateProfile({
      handle,
      display_name: `  ${decomposed}  `,
      bio: 'line one\nline two',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      user_id: user.id,
      handle,
      display_name: 'Zoé \u{1F426}',
      bio: 'line one\nline two',
    });
    const bioOnly = await user.updateProfile({ bio: 'changed' });
    expect(bioOnly.body).toMatchObject({ handle, display_name: 'Zoé \u{1F426}', bio: 'changed' });
    const me = await user.me();
    expect(me.body).toMatchObject({ handle, bio: 'changed', handle_generated: false });
    // Looked up in any case.
    const found = await newUser('finder').profile(handle.toUpperCase());
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ user_id: user.id, handle, following: false });
  });

  it('counts limits in code points after NFC', async () => {
    const user = newUser('limits');
    // 50 x (e + combining acute) is 100 code points, 50 after NFC: accepted.
    const fifty = 'e\u0301'.repeat(50);
    expect((await user.updateProfile({ display_name: fifty })).status).toBe(200);
    expectError(
      await user.updateProfile({ display_name: 'e\u0301'.repeat(51) }),
      400,
      'display_name_too_long',
    );
    // Emoji are one code point each (two UTF-16 units).
    expect((await user.updateProfile({ bio: '\u{1F426}'.repeat(160) })).status).toBe(200);
    expectError(await user.updateProfile({ bio: '\u{1F426}'.repeat(161) }), 400, 'bio_too_long');
  });

  it('refuses bad input with a code and writes nothing', async () => {
    const user = newUser('bad');
    const before = (await user.me()).body;
    const cases: [unknown, string][] = [
      [{ handle: 'ab' }, 'invalid_handle'],
      [{ handle: 'a'.repeat(31) }, 'invalid_handle'],
      [{ handle: 'has-dash' }, 'invalid_handle'],
      [{ handle: 'ünïcode' }, 'invalid_handle'],
      [{ handle: 42 }, 'invalid_request'],
      [{ display_name: 'two\nlines' }, 'invalid_request'],
      [{ display_name: 'bell\u0007' }, 'invalid_request'],
      [{ bio: '\uD800' }, 'invalid_request'],
      [{ bio: null }, 'invalid_request'],
      [{ avatar_media_id: 7 }, 'invalid_request'],
      [{}, 'invalid_request'],
      [{ unknown: 'x' }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const response = await user.untyped('PUT', '/v1/me/profile', { body });
      expect({ body, status: response.status, code: errorOf(response).error.code }).toEqual({
        body,
        status: 400,
        code,
      });
    }
    expectError(
      await user.untyped('PUT', '/v1/me/profile', { rawBody: '{"handle":', headers: {} }),
      400,
      'invalid_request',
    );
    expect((await user.me()).body).toEqual(before);
  });

  it('keeps handles unique case-insensitively and releases the old handle on a change', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const first = freshHandle('First');
    await claim(alice, first);
    expectError(await bob.updateProfile({ handle: first.toLowerCase() }), 409, 'handle_taken');
    // Its owner may re-case it.
    const recased = await alice.updateProfile({ handle: first.toUpperCase() });
    expect(recased.body.handle).toBe(first.toUpperCase());
    // A change releases the old handle: bob can take it, and it resolves to him.
    const second = freshHandle('second');
    await claim(alice, second);
    expectError(await newUser('x').profile(first), 404, 'user_not_found');
    await claim(bob, first);
    expect((await alice.profile(first)).body.user_id).toBe(bob.id);
    expect((await bob.profile(second)).body.user_id).toBe(alice.id);
  });

  it('gives a handle claimed concurrently by many users to exactly one', async () => {
    const contenders = Array.from({ length: 8 }, (_, i) => newUser(`claim${i}`));
    // Profiles exist first, so the race is on the handle alone.
    await Promise.all(contenders.map((user) => user.me()));
    const handle = freshHandle('Contested');
    const answers = await Promise.all(
      contenders.map((user, i) =>
        user.updateProfile({ handle: i % 2 === 0 ? handle : handle.toLowerCase() }),
      ),
    );
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => a.status !== 200)) {
      expectError(loser, 409, 'handle_taken');
    }
    const winner = contenders[answers.indexOf(winners[0]!)]!;
    const found = await newUser('judge').profile(handle);
    expect(found.body.user_id).toBe(winner.id);
    // The losers kept their generated handles.
    for (const user of contenders.filter((u) => u !== winner)) {
      expect((await user.me()).body.handle_generated).toBe(true);
    }
  });

  it('takes an uploaded image as the avatar: processing, then its square variants', async () => {
    const user = newUser('avatar');
    const handle = await claim(user);
    const upload = await uploadMedia(user, await generatePng(300, 200));
    const set = await user.updateProfile({ avatar_media_id: upload.media_id });
    expect(set.status).toBe(200);
    expect(set.body.avatar?.media_id).toBe(upload.media_id);
    expect(['pending_upload', 'processing', 'ready']).toContain(set.body.avatar?.status);
    const viewer = newUser('viewer');
    const ready = await eventually(
      'avatar ready',
      async () => {
        const avatar = (await viewer.profile(handle)).body.avatar;
        return avatar?.status === 'ready' ? avatar : undefined;
      },
      30_000,
      200,
    );
    // Only the square crop, as WebP and JPEG, served by the CDN.
    expect(ready.variants.map((v) => `${v.name} ${v.content_type}`).sort()).toEqual([
      'thumb image/jpeg',
      'thumb image/webp',
    ]);
    for (const variant of ready.variants) {
      expect(variant.width).toBe(variant.height);
      const image = await fetch(variant.url);
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe(variant.content_type);
    }
    // Attached to the profile: out of the sweeper's index, not attachable to a tweet.
    const record = await mediaRecord(upload.media_id);
    expect(record).toMatchObject({ avatar_of: user.id });
    expect(record?.gsi2pk).toBeUndefined();
    expect(record?.expires_at).toBeUndefined();
    expectError(
      await user.createTweet({ text: 'reuse', media_ids: [upload.media_id] }),
      422,
      'media_already_attached',
    );

    // A new avatar detaches the old one (the sweeper removes it); null removes the avatar.
    const next = await uploadMedia(user, await generatePng(64, 64));
    const replaced = await user.updateProfile({ avatar_media_id: next.media_id });
    expect(replaced.body.avatar?.media_id).toBe(next.media_id);
    const old = await mediaRecord(upload.media_id);
    expect(old?.avatar_of).toBeUndefined();
    expect(old).toMatchObject({ gsi2pk: METADATA_KEYS.unattachedIndex.pk });
    expect(typeof old?.detached_at).toBe('string');
    expectError(
      await user.updateProfile({ avatar_media_id: upload.media_id }),
      422,
      'media_not_found',
    );
    const removed = await user.updateProfile({ avatar_media_id: null });
    expect(removed.body.avatar).toBeNull();
    expect((await mediaRecord(next.media_id))?.detached_at).toBeDefined();
  });

  it("refuses media that cannot be an avatar: someone else's, a tweet's, a GIF, a non-id", async () => {
    const user = newUser('picky');
    const other = newUser('other');
    const theirs = await uploadMedia(other, await generatePng());
    expectError(
      await user.updateProfile({ avatar_media_id: theirs.media_id }),
      422,
      'media_not_found',
    );
    const tweeted = await uploadMedia(user, await generatePng());
    expect((await user.createTweet({ text: 'pic', media_ids: [tweeted.media_id] })).status).toBe(
      201,
    );
    expectError(
      await user.updateProfile({ avatar_media_id: tweeted.media_id }),
      422,
      'media_already_attached',
    );
    const gifInit = await user.initMedia({ content_type: 'image/gif', size_bytes: 100 });
    expectError(
      await user.updateProfile({ avatar_media_id: gifInit.body.media_id }),
      422,
      'avatar_not_image',
    );
    expectError(
      await user.untyped('PUT', '/v1/me/profile', { body: { avatar_media_id: 'nope' } }),
      422,
      'media_not_found',
    );
    expect((await user.me()).body.avatar).toBeNull();
  });
});

describe('GET /v1/profiles/{handle}', () => {
  it('answers 404 user_not_found for unknown and malformed handles', async () => {
    const user = newUser('looker');
    expectError(await user.profile(freshHandle('nobody')), 404, 'user_not_found');
    expectError(await user.untyped('GET', '/v1/profiles/a.b'), 404, 'user_not_found');
    expectError(
      await user.untyped('GET', '/v1/profiles/%F0%9F%90%A6%F0%9F%90%A6x'),
      404,
      'user_not_found',
    );
  });

  it('says whether the caller follows the user, and follows by handle', async () => {
    const author = newUser('author');
    const reader = newUser('reader');
    const handle = await claim(author);
    const before = await reader.profile(handle);
    expect(before.body).toMatchObject({ following: false, follower_count: 0 });
    // Following by handle: resolve it, then follow the id.
    expect((await reader.follow(before.body.user_id)).status).toBe(204);
    expect((await reader.profile(handle)).body).toMatchObject({
      following: true,
      follower_count: 1,
    });
    expect((await reader.me()).body.following_count).toBe(1);
    // Only the caller's own edge counts.
    expect((await newUser('third').profile(handle)).body.following).toBe(false);
    expect((await reader.unfollow(author.id)).status).toBe(204);
    expect((await reader.profile(handle)).body).toMatchObject({
      following: false,
      follower_count: 0,
    });
  });
});

describe('tweets show their author', () => {
  it('carries the handle, name and avatar, refreshed when the profile changes', async () => {
    const author = newUser('shown');
    // The first call (this tweet) created the profile: the tweet shows the generated handle.
    const before = await author.createTweet({ text: 'before my profile' });
    expect(before.body.author).toEqual({
      handle: expect.stringMatching(/^user_[0-9a-f]{12}$/),
      display_name: '',
      avatar_url: null,
    });
    const handle = await claim(author);
    expect((await author.updateProfile({ display_name: 'Shown Author' })).status).toBe(200);
    // The tweet cached with the generated handle was dropped by the change.
    expect((await author.getTweet(before.body.tweet_id)).body.author).toEqual({
      handle,
      display_name: 'Shown Author',
      avatar_url: null,
    });
    const created = await author.createTweet({ text: 'with my profile' });
    expect(created.body.author).toEqual({
      handle,
      display_name: 'Shown Author',
      avatar_url: null,
    });

    // A new handle and an avatar: the cached tweets show them on their next read.
    const renamed = freshHandle('renamed');
    const upload = await uploadMedia(author, await generatePng(200, 200));
    expect(
      (await author.updateProfile({ handle: renamed, avatar_media_id: upload.media_id })).status,
    ).toBe(200);
    const reader = newUser('reader');
    expect((await reader.follow(author.id)).status).toBe(204);
    const shown = await eventually(
      'the avatar on the tweet',
      async () => {
        const tweet = (await reader.getTweet(created.body.tweet_id)).body;
        return tweet.author?.avatar_url ? tweet : undefined;
      },
      30_000,
      200,
    );
    expect(shown.author).toMatchObject({ handle: renamed, display_name: 'Shown Author' });
    const avatar = await fetch(shown.author?.avatar_url ?? '');
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get('content-type')).toBe('image/jpeg');
    const home = await reader.timeline();
    const authors = home.body.tweets.map((t) => t.author?.handle);
    expect(authors).toEqual([renamed, renamed]);
  });
});
