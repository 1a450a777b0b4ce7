/**
 * The local CDN behaves like the CloudFront distribution: processed media only, the object's own
 * headers plus the response headers policy, ranges and revalidation; originals never.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../app/model';
import { cdnUrl, serviceEnv } from '../support/env';

describe('the local CDN', () => {
  const env = serviceEnv();
  const s3 = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL_S3,
    region: env.AWS_REGION,
    forcePathStyle: true,
  });
  const Bucket = env[ENV.mediaBucket];
  const id = `cdn-${Date.now()}`;
  const body = Buffer.from('0123456789abcdefghij');

  beforeAll(async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: `media/${id}/large.webp`,
        Body: body,
        ContentType: 'image/webp',
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket, Key: `uploads/${id}`, Body: body, ContentType: 'image/png' }),
    );
  });
  afterAll(() => s3.destroy());

  it('serves processed media with the object headers, CloudFront headers and security headers', async () => {
    const first = await fetch(`${cdnUrl()}/media/${id}/large.webp`);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer())).toEqual(body);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/);
    expect(first.headers.get('last-modified')).toEqual(expect.any(String));
    expect(first.headers.get('via')).toContain('CloudFront');
    expect(first.headers.get('x-cache')).toBe('Miss from cloudfront');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('x-frame-options')).toBe('DENY');
    expect(first.headers.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains; preload',
    );
    expect(first.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");

    // The cache key ignores the query string.
    const second = await fetch(`${cdnUrl()}/media/${id}/large.webp?v=2`);
    expect(second.headers.get('x-cache')).toBe('Hit from cloudfront');
    expect(second.headers.get('age')).toMatch(/^\d+$/);

    const head = await fetch(`${cdnUrl()}/media/${id}/large.webp`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));

    const range = await fetch(`${cdnUrl()}/media/${id}/large.webp`, {
      headers: { range: 'bytes=2-5' },
    });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).toString()).toBe('2345');
    expect(range.headers.get('content-range')).toBe(`bytes 2-5/${body.length}`);

    const revalidated = await fetch(`${cdnUrl()}/media/${id}/large.webp`, {
      headers: { 'if-none-match': first.headers.get('etag') as string },
    });
    expect(revalidated.status).toBe(304);
  });

  it('never serves originals, other paths, missing keys or other methods', async () => {
    for (const path of [
      `/uploads/${id}`,
      `/media/../uploads/${id}`,
      `/media/%2E%2E/uploads/${id}`,
      `/media/${id}/missing.webp`,
      // Keys S3 holds no object for, however odd (a NUL byte failed in the emulator: 502).
      `/media/${id}/%00.webp`,
      `/media/${'a'.repeat(300)}`,
      '/',
    ]) {
      const response = await fetch(`${cdnUrl()}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 403 });
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const put = await fetch(`${cdnUrl()}/media/${id}/large.webp`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(403);
  });
});
