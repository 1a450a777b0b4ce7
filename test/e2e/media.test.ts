/**
 * Media over HTTP: media/init limits and error codes, and what the presigned upload URL allows.
 */
import { request as httpRequest } from 'node:http';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LIMITS } from '../../app/model';
import { expectError, newUser, type InitMediaBody } from '../support/api-client';
import { generatePng, upload } from '../support/media';
import { stackClients } from '../security/state';

describe('POST /v1/media/init', () => {
  const user = newUser('uploader');

  it('returns a pending media with a presigned PUT that expires within 15 minutes', async () => {
    const before = Date.now();
    const init = await user.initSinglePut({
      content_type: 'image/png',
      size_bytes: 1234,
      alt_text: 'a test image',
    });
    expect(init.status).toBe(201);
    expect(init.body).toMatchObject({ status: 'pending_upload', upload_method: 'PUT' });
    expect(init.body.upload_headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': '1234',
    });
    const expiresAt = Date.parse(init.body.expires_at);
    expect(expiresAt).toBeGreaterThan(before);
    expect(expiresAt).toBeLessThanOrEqual(
      Date.now() + LIMITS.uploadUrlExpiresSeconds * 1000 + 1000,
    );
    const expires = Number(new URL(init.body.upload_url).searchParams.get('X-Amz-Expires'));
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(LIMITS.uploadUrlExpiresSeconds);

    const media = await user.getMedia(init.body.media_id);
    expect(media.status).toBe(200);
    expect(media.body).toMatchObject({
      media_id: init.body.media_id,
      status: 'pending_upload',
      alt_text: 'a test image',
    });
  });

  it('accepts each type up to its limit', async () => {
    for (const [contentType, max] of Object.entries(LIMITS.mediaTypes)) {
      const response = await user.initMedia({
        content_type: contentType,
        size_bytes: max,
      });
      expect({ contentType, status: response.status }).toEqual({ contentType, status: 201 });
      // Above the threshold (videos up to 512 MiB) the upload goes in parts.
      expect(response.body.upload_method).toBe(
        max > LIMITS.multipartThresholdBytes ? 'PARTS' : 'PUT',
      );
    }
  });

  it('rejects unsupported types with 415 and oversized media with 413', async () => {
    expectError(
      await user.initSinglePut({ content_type: 'image/svg+xml', size_bytes: 100 }),
      415,
      'unsupported_media_type',
    );
    expectError(
      await user.initSinglePut({ content_type: 'text/html', size_bytes: 100 }),
      415,
      'unsupported_media_type',
    );
    for (const [contentType, max] of Object.entries(LIMITS.mediaTypes)) {
      expectError(
        await user.initSinglePut({ content_type: contentType, size_bytes: max + 1 }),
        413,
        'media_too_large',
      );
    }
  });

  it('rejects malformed input with 400 invalid_request', async () => {
    // Untyped: bodies the contract's types refuse (missing fields, wrong types, not JSON).
    for (const body of [
      {},
      { content_type: 'image/png' },
      { content_type: 'image/png', size_bytes: -1 },
      { content_type: 'image/png', size_bytes: 0 },
      { content_type: 'image/png', size_bytes: 1.5 },
      { content_type: 'image/png', size_bytes: '100' },
      {
        content_type: 'image/png',
        size_bytes: 100,
        alt_text: 'a'.repeat(LIMITS.altTextMaxChars + 1),
      },
      { content_type: 'image/png', size_bytes: 100, alt_text: 7 },
    ]) {
      expectError(await user.untyped('POST', '/v1/media/init', { body }), 400, 'invalid_request');
    }
    expectError(
      await user.untyped('POST', '/v1/media/init', {
        rawBody: 'not json',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_request',
    );
  });
});

describe('the presigned upload URL', () => {
  const user = newUser('presigned');

  async function fresh(bytes: Buffer): Promise<InitMediaBody> {
    const init = await user.initSinglePut({
      content_type: 'image/png',
      size_bytes: bytes.length,
    });
    expect(init.status).toBe(201);
    return init.body;
  }

  it('rejects another length, another content type, another key, and an unsigned PUT', async () => {
    const png = await generatePng();
    const init = await fresh(png);

    const shorter = png.subarray(0, png.length - 10);
    const wrongLength = await fetch(init.upload_url, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: shorter,
    });
    expect(wrongLength.status).toBe(403);

    const wrongType = await upload(init, png, { 'content-type': 'image/jpeg' });
    expect(wrongType.status).toBe(403);

    const other = await fresh(png);
    const otherKeyUrl = init.upload_url.replace(init.media_id, other.media_id);
    const wrongKey = await fetch(otherKeyUrl, {
      method: 'PUT',
      headers: other.upload_headers,
      body: png,
    });
    expect(wrongKey.status).toBe(403);

    const unsigned = await fetch(init.upload_url.split('?')[0] as string, {
      method: 'PUT',
      headers: init.upload_headers,
      body: png,
    });
    expect(unsigned.status).toBe(403);

    // None of that stored anything: the media is still waiting for its upload.
    const media = await user.getMedia(init.media_id);
    expect(media.body.status).toBe('pending_upload');

    const good = await upload(init, png);
    expect(good.status).toBe(200);
  });
});

describe('the presigned upload URL, as S3 treats it', () => {
  const user = newUser('presigned-s3');
  const clients = stackClients();
  afterAll(() => clients.close());

  async function fresh(bytes: Buffer): Promise<InitMediaBody> {
    const init = await user.initSinglePut({
      content_type: 'image/png',
      size_bytes: bytes.length,
    });
    expect(init.status).toBe(201);
    return init.body;
  }

  const stored = (init: InitMediaBody) =>
    clients.s3
      .send(new HeadObjectCommand({ Bucket: clients.bucket, Key: `uploads/${init.media_id}` }))
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof Error && error.name === 'NotFound') return false;
          throw error;
        },
      );

  it('refuses x-amz-* headers it did not sign (an ACL, user metadata)', async () => {
    const png = await generatePng();
    const init = await fresh(png);
    const extras: Record<string, string>[] = [
      { 'x-amz-acl': 'public-read' },
      { 'x-amz-meta-owner': 'mallory' },
    ];
    for (const extra of extras) {
      const response = await upload(init, png, extra);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain(
        'headers present in the request which were not signed',
      );
    }
    expect(await stored(init)).toBe(false);
  });

  it('creates the object once: a second PUT to the same URL is 412 and changes nothing', async () => {
    const png = await generatePng();
    const init = await fresh(png);
    expect((await upload(init, png)).status).toBe(200);
    const before = await clients.s3.send(
      new HeadObjectCommand({ Bucket: clients.bucket, Key: `uploads/${init.media_id}` }),
    );
    const again = await upload(init, Buffer.alloc(png.length, 1));
    expect(again.status).toBe(412);
    expect(await again.text()).toContain('<Code>PreconditionFailed</Code>');
    const after = await clients.s3.send(
      new HeadObjectCommand({ Bucket: clients.bucket, Key: `uploads/${init.media_id}` }),
    );
    expect(after.ETag).toBe(before.ETag);
  });

  it('stores nothing when the upload is cut short, and the URL still works afterwards', async () => {
    const png = await generatePng(200, 150);
    const init = await fresh(png);
    const url = new URL(init.upload_url);
    // Half the signed Content-Length, then the connection closes.
    await new Promise<void>((resolve) => {
      const put = httpRequest({
        method: 'PUT',
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: init.upload_headers,
      });
      put.on('error', () => resolve());
      put.on('close', () => resolve());
      put.write(png.subarray(0, Math.floor(png.length / 2)), () => {
        setTimeout(() => put.destroy(), 200);
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await stored(init)).toBe(false);
    const media = await user.getMedia(init.media_id);
    expect(media.body.status).toBe('pending_upload');

    expect((await upload(init, png)).status).toBe(200);
    expect(await stored(init)).toBe(true);
  });
});
