// Own code: there is no local CloudFront (docs/own-code.md).
/**
 * CloudFront in front of the media bucket, locally: only keys under the processed prefix are
 * served (GET/HEAD, Range, conditional GET), with the object's own content-type, cache-control and
 * ETag, CloudFront's x-cache/via/age headers, and the security headers of the distribution's
 * response headers policy. Anything else gets S3's AccessDenied through the origin, as with an
 * origin access control that grants s3:GetObject on media/* only (that also makes a missing key
 * a 403, not a 404). The policy's CORS behaviour (the app model's MEDIA_CDN_CORS, for the
 * configured origins) adds Access-Control-Allow-Origin to responses for an allowed Origin.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { MEDIA_CDN_CORS, MEDIA_PREFIXES } from '../app/model';
import { originMatcher } from './cors';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { Log } from './log';

/** The distribution's response headers policy (lib/constructs/media-cdn.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "default-src 'none'; sandbox",
};

const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/** Longest suffix s3rver's file store adds to a key's last segment ('._S3rver_metadata.json'). */
const STORE_SUFFIX_BYTES = '._S3rver_metadata.json'.length;

export interface CdnOptions {
  readonly port: number;
  readonly bucket: string;
  readonly s3Endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly log: Log;
  /** Origins the response headers policy's CORS behaviour allows. @default none */
  readonly corsOrigins?: readonly string[];
}

export async function startCdn(options: CdnOptions): Promise<LocalHttpServer> {
  const s3 = new S3Client({
    endpoint: options.s3Endpoint,
    region: options.region,
    credentials: options.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  /** When each path first entered the "edge cache", for x-cache and age. */
  const cachedAt = new Map<string, number>();

  const corsOrigins = originMatcher(options.corsOrigins ?? []);
  /** The response headers policy's CORS headers; originOverride: the origin's never pass. */
  const corsHeaders = (origin: string | undefined): Record<string, string> => {
    const allowOrigin = corsOrigins.allowOrigin(origin);
    if (allowOrigin === undefined) return {};
    return {
      'access-control-allow-origin': allowOrigin,
      ...(MEDIA_CDN_CORS.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    };
  };

  const edgeHeaders = (
    status: number,
    extra: Record<string, string>,
    origin?: string,
  ): Record<string, string> => ({
    ...corsHeaders(origin),
    server: 'AmazonS3',
    via: '1.1 local.cloudfront.net (CloudFront)',
    'x-amz-cf-pop': 'LOCAL1-C1',
    'x-amz-cf-id': randomBytes(42).toString('base64url').slice(0, 56),
    ...(status >= 400 ? { 'x-cache': 'Error from cloudfront' } : {}),
    ...SECURITY_HEADERS,
    ...extra,
  });

  const deny = (response: ServerResponse) => {
    response.writeHead(
      403,
      edgeHeaders(
        403,
        {
          'content-type': 'application/xml',
          'content-length': String(Buffer.byteLength(ACCESS_DENIED)),
        },
        response.req.headers.origin,
      ),
    );
    response.end(ACCESS_DENIED);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    // The cache policy keys on the path only; the query string never reaches the origin.
    const rawPath = (request.url ?? '/').split('?')[0] ?? '/';
    let key: string;
    try {
      key = decodeURIComponent(rawPath.slice(1));
    } catch {
      deny(response);
      return;
    }
    if ((method !== 'GET' && method !== 'HEAD') || !key.startsWith(MEDIA_PREFIXES.processed)) {
      deny(response);
      return;
    }
    // Keys the emulator's file store cannot name (a NUL byte, a path segment longer than a file
    // name allows) hold no object there; S3 has none either, and answers 403 through the OAC.
    const unstorable =
      key.includes('\0') ||
      key.split('/').some((segment) => Buffer.byteLength(segment) > 255 - STORE_SUFFIX_BYTES);
    if (unstorable || key.split('/').some((segment) => segment === '..' || segment === '.')) {
      deny(response);
      return;
    }
    const range = request.headers.range;
    let object: GetObjectCommandOutput;
    try {
      object = await s3.send(
        new GetObjectCommand({
          Bucket: options.bucket,
          Key: key,
          ...(range !== undefined ? { Range: range } : {}),
        }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status === 404 || status === 403) {
        deny(response);
        return;
      }
      if (status === 416) {
        response.writeHead(416, edgeHeaders(416, {}, request.headers.origin));
        response.end();
        return;
      }
      throw error;
    }
    const body = object.Body as Readable | undefined;
    const now = Date.now();
    const firstSeen = cachedAt.get(key);
    if (firstSeen === undefined) cachedAt.set(key, now);
    const headers: Record<string, string> = edgeHeaders(
      200,
      {
        'x-cache': firstSeen === undefined ? 'Miss from cloudfront' : 'Hit from cloudfront',
        ...(firstSeen !== undefined ? { age: String(Math.floor((now - firstSeen) / 1000)) } : {}),
        'accept-ranges': 'bytes',
        ...(object.ContentType !== undefined ? { 'content-type': object.ContentType } : {}),
        ...(object.CacheControl !== undefined ? { 'cache-control': object.CacheControl } : {}),
        ...(object.ETag !== undefined ? { etag: object.ETag } : {}),
        ...(object.LastModified !== undefined
          ? { 'last-modified': object.LastModified.toUTCString() }
          : {}),
        ...(object.ContentLength !== undefined
          ? { 'content-length': String(object.ContentLength) }
          : {}),
        ...(object.ContentRange !== undefined ? { 'content-range': object.ContentRange } : {}),
      },
      request.headers.origin,
    );
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && object.ETag !== undefined && ifNoneMatch === object.ETag) {
      body?.destroy();
      delete headers['content-length'];
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(object.ContentRange !== undefined ? 206 : 200, headers);
    if (method === 'HEAD' || body === undefined) {
      body?.destroy();
      response.end();
      return;
    }
    body.pipe(response);
  };

  const server = await serveHttp(options.port, handle, (error, response) => {
    options.log(`cdn: ${String(error)}`);
    if (!response.headersSent) {
      response.writeHead(
        502,
        edgeHeaders(502, { 'content-type': 'text/plain' }, response.req.headers.origin),
      );
    }
    response.end();
  });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      s3.destroy();
    },
  };
}
