import './setup-env';
import { expect } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { handler as initMediaHandler } from '../../lambdas/http/init-media';
import { handler as getMediaHandler } from '../../lambdas/http/get-media';
import { handler as createTweetHandler } from '../../lambdas/http/create-tweet';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import { renderMedia } from '../../lambdas/core/media/render';
import type { MediaRecord } from '../../lambdas/core/media/store';
import { dynamo, tables } from '../../lambdas/platform/clients';
import { CDN, errorCode, httpEvent, newUser, parse } from './harness';

const init = async (user: string, body: unknown) =>
  parse(await initMediaHandler(httpEvent('POST /v1/media/init', { user, body })));

const getMedia = async (user: string, mediaId: string) =>
  parse(
    await getMediaHandler(
      httpEvent('GET /v1/media/{media_id}', { user, pathParameters: { media_id: mediaId } }),
    ),
  );

describe('init-media', () => {
  it('creates a pending, expiring, unattached record and a presigned PUT that S3 accepts', async () => {
    const user = newUser();
    const bytes = Buffer.alloc(2048, 7);
    const started = Date.now();
    const result = await init(user, {
      content_type: 'image/jpeg',
      size_bytes: bytes.length,
      alt_text: 'a cat',
    });
    expect(result.status).toBe(201);
    const body = result.body as Record<string, unknown> & {
      upload_headers: Record<string, string>;
    };
    expect(body).toMatchObject({
      media_id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      status: 'pending_upload',
      upload_method: 'PUT',
      upload_headers: { 'content-type': 'image/jpeg', 'content-length': '2048' },
    });
    const expiresAt = Date.parse(body.expires_at as string);
    expect(expiresAt - started).toBeLessThanOrEqual(LIMITS.uploadUrlExpiresSeconds * 1000 + 1000);
    expect(body.upload_url).toContain('X-Amz-Expires=900');
    expect(decodeURIComponent(String(body.upload_url))).toMatch(
      /X-Amz-SignedHeaders=[^&]*content-length/,
    );
    expect(decodeURIComponent(String(body.upload_url))).toMatch(
      /X-Amz-SignedHeaders=[^&]*content-type/,
    );
    // One-shot: S3 creates the object only if the key is free.
    expect(body.upload_headers['if-none-match']).toBe('*');
    expect(decodeURIComponent(String(body.upload_url))).toMatch(
      /X-Amz-SignedHeaders=[^&]*if-none-match/,
    );

    const record = (
      await dynamo.send(
        new GetCommand({
          TableName: tables.metadata,
          Key: METADATA_KEYS.media(body.media_id as string),
        }),
      )
    ).Item as MediaRecord;
    expect(record).toMatchObject({
      owner_id: user,
      status: 'pending_upload',
      content_type: 'image/jpeg',
      size_bytes: 2048,
      alt_text: 'a cat',
      upload_key: `uploads/${body.media_id as string}`,
      gsi2pk: 'UNATTACHED',
    });
    expect(record.expires_at).toBeGreaterThan(
      Date.now() / 1000 + LIMITS.unattachedMediaTtlSeconds - 60,
    );

    const wrongLength = await fetch(String(body.upload_url), {
      method: 'PUT',
      headers: { 'content-type': 'image/jpeg' },
      body: bytes.subarray(0, 100),
    });
    expect(wrongLength.status).toBe(403);
    const wrongType = await fetch(String(body.upload_url), {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: bytes,
    });
    expect(wrongType.status).toBe(403);
    const upload = await fetch(String(body.upload_url), {
      method: 'PUT',
      headers: body.upload_headers,
      body: bytes,
    });
    expect(upload.status).toBe(200);
  });

  it.each([
    [
      'an unknown type',
      { content_type: 'image/bmp', size_bytes: 10 },
      415,
      'unsupported_media_type',
    ],
    [
      'a prototype key as type',
      { content_type: 'constructor', size_bytes: 10 },
      415,
      'unsupported_media_type',
    ],
    [
      'a PNG over 16 MiB',
      { content_type: 'image/png', size_bytes: 16 * 1024 * 1024 + 1 },
      413,
      'media_too_large',
    ],
    [
      'a GIF over 15 MiB',
      { content_type: 'image/gif', size_bytes: 15 * 1024 * 1024 + 1 },
      413,
      'media_too_large',
    ],
    [
      'a video over 512 MiB',
      { content_type: 'video/mp4', size_bytes: 512 * 1024 * 1024 + 1 },
      413,
      'media_too_large',
    ],
    ['zero bytes', { content_type: 'image/png', size_bytes: 0 }, 400, 'invalid_request'],
    ['fractional bytes', { content_type: 'image/png', size_bytes: 1.5 }, 400, 'invalid_request'],
    ['bytes as a string', { content_type: 'image/png', size_bytes: '10' }, 400, 'invalid_request'],
    ['a number as type', { content_type: 5, size_bytes: 10 }, 400, 'invalid_request'],
    ['no type', { size_bytes: 10 }, 400, 'invalid_request'],
    [
      '1001-character alt text',
      {
        content_type: 'image/png',
        size_bytes: 10,
        alt_text: 'a'.repeat(1001),
      },
      400,
      'invalid_request',
    ],
    [
      'a number as alt text',
      { content_type: 'image/png', size_bytes: 10, alt_text: 7 },
      400,
      'invalid_request',
    ],
  ])('refuses %s with its documented 4xx', async (_, body, status, code) => {
    const result = await init(newUser(), body);
    expect([result.status, errorCode(result)]).toEqual([status, code]);
  });

  it('accepts every documented type at its size limit', async () => {
    for (const [type, max] of Object.entries(LIMITS.mediaTypes)) {
      expect((await init(newUser(), { content_type: type, size_bytes: max })).status).toBe(201);
    }
  });
});

describe('get-media', () => {
  it('shows unattached media to its owner only, and attached media to anyone', async () => {
    const owner = newUser();
    const other = newUser();
    const created = await init(owner, { content_type: 'image/png', size_bytes: 10 });
    const mediaId = created.body.media_id as string;
    const own = await getMedia(owner, mediaId);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({
      media_id: mediaId,
      status: 'pending_upload',
      content_type: 'image/png',
      size_bytes: 10,
      alt_text: null,
      variants: [],
      failure: null,
      check_after_secs: 2,
    });
    const hidden = await getMedia(other, mediaId);
    expect([hidden.status, errorCode(hidden)]).toEqual([404, 'media_not_found']);
    const tweet = parse(
      await createTweetHandler(
        httpEvent('POST /v1/tweets', { user: owner, body: { text: '', media_ids: [mediaId] } }),
      ),
    );
    expect(tweet.status).toBe(201);
    expect((await getMedia(other, mediaId)).status).toBe(200);
  });

  it.each([
    ['path traversal', '../../etc/passwd'],
    ['percent-encoded traversal', '%2e%2e%2f'],
    ['an over-long id', 'x'.repeat(5000)],
    ['a non-ASCII id', 'ÄÖÜ'],
    ['a well-formed id that does not exist', '01J00000000000000000000000'],
  ])('answers media_not_found for %s', async (_, mediaId) => {
    const result = await getMedia(newUser(), mediaId);
    expect([result.status, errorCode(result)]).toEqual([404, 'media_not_found']);
  });
});

describe('renderMedia', () => {
  it('turns variant keys into CDN URLs and drops check_after_secs once final', () => {
    const record: MediaRecord = {
      ...METADATA_KEYS.media('01J00000000000000000000000'),
      media_id: '01J00000000000000000000000',
      owner_id: 'u',
      status: 'ready',
      content_type: 'image/jpeg',
      size_bytes: 100,
      alt_text: 'alt',
      upload_key: 'uploads/01J00000000000000000000000',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      width: 640,
      height: 480,
      blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
      variants: [
        {
          name: 'small',
          key: 'media/ab/cd.webp',
          content_type: 'image/webp',
          width: 320,
          height: 240,
          bytes: 999,
        },
      ],
      failure: null,
    };
    expect(renderMedia(record, `${CDN}/`)).toEqual({
      media_id: '01J00000000000000000000000',
      status: 'ready',
      content_type: 'image/jpeg',
      size_bytes: 100,
      alt_text: 'alt',
      width: 640,
      height: 480,
      blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
      variants: [
        {
          name: 'small',
          url: `${CDN}/media/ab/cd.webp`,
          content_type: 'image/webp',
          width: 320,
          height: 240,
          bytes: 999,
        },
      ],
      failure: null,
    });
    expect(renderMedia({ ...record, status: 'processing' }, CDN).check_after_secs).toBe(1);
  });
});
