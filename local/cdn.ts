// Own code: there is no local CloudFront (docs/own-code.md).
/**
 * CloudFront in front of the media bucket, locally: only keys under the processed prefix are
 * served (GET/HEAD, Range, conditional GET), with the object's own content-type, cache-control and
 * ETag, CloudFront's x-cache/via/age headers, and the security headers of the distribution's
 * response headers policy. Like an edge, it keeps what it served for the cache policy's TTL
 * (the origin's s-maxage, at most MEDIA_SERVING.cdnMaxTtlSeconds) and serves that copy even after
 * the origin's is deleted; one process is one edge. Anything else gets S3's AccessDenied through the origin, as with an
 * origin access control that grants s3:GetObject on media/* only (that also makes a missing key
 * a 403, not a 404). The policy's CORS behaviour (the app model's MEDIA_CDN_CORS, for the
 * configured origins) adds Access-Control-Allow-Origin to responses for an allowed Origin.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  MEDIA_CDN_CORS,
  MEDIA_PREFIXES,
  MEDIA_SERVING,
  SECURITY_HEADERS as SECURITY_HEADER_POLICY,
  securityHeaderValues,
} from '../app/model';
import { originMatcher } from './cors';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { Log } from './log';

/** The distribution's response headers policy (lib/constructs/media-cdn.ts), from the model. */
const SECURITY_HEADERS = securityHeaderValues(SECURITY_HEADER_POLICY.mediaContentSecurityPolicy);

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
  /** The cache policy's maximum (and default) TTL. @default MEDIA_SERVING.cdnMaxTtlSeconds */
  readonly maxTtlSeconds?: number;
}

/** An object as an edge keeps it: its bytes and the origin's headers CloudFront passes on. */
interface EdgeObject {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** Objects larger than this are not kept (CloudFront caches up to 50 GB; this is a laptop). */
const MAX_CACHED_OBJECT_BYTES = 64 * 1024 * 1024;
const MAX_CACHED_BYTES = 512 * 1024 * 1024;

/**
 * How long CloudFront keeps an object under the distribution's cache policy (minimum 0, default
 * and maximum MEDIA_SERVING.cdnMaxTtlSeconds): the origin's s-maxage, else its max-age, else the
 * default, clamped to the maximum.
 */
export function edgeTtlSeconds(cacheControl: string | undefined, maxTtlSeconds: number): number {
  const directive = (name: string) => {
    const match = new RegExp(`(?:^|,)\\s*${name}\\s*=\\s*(\\d+)`, 'i').exec(cacheControl ?? '');
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const ttl = directive('s-maxage') ?? directive('max-age') ?? maxTtlSeconds;
  return Math.min(Math.max(ttl, 0), maxTtlSeconds);
}

/**
 * One edge's cache: an object is served from here, whatever the origin holds now, until its TTL
 * runs out; then it is fetched again (RefreshHit when unchanged), and gone if the origin refuses.
 * Errors are not cached (MEDIA_SERVING.cdnErrorTtlSeconds is 0).
 */
class EdgeCache {
  private readonly objects = new Map<string, EdgeObject>();
  private bytes = 0;
  private readonly maxTtlSeconds: number;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    maxTtlSeconds = MEDIA_SERVING.cdnMaxTtlSeconds,
  ) {
    this.maxTtlSeconds = maxTtlSeconds;
  }

  /** The object for a key and how it was served; undefined when the origin refuses it. */
  async lookup(key: string): Promise<{ object: EdgeObject; hit: string } | undefined> {
    const now = Date.now();
    const kept = this.objects.get(key);
    if (kept !== undefined && kept.expiresAt > now)
      return { object: kept, hit: 'Hit from cloudfront' };
    const fetched = await this.fetch(key, now);
    this.forget(key);
    if (fetched === undefined) return undefined;
    this.keep(key, fetched);
    const unchanged = kept !== undefined && kept.headers.etag === fetched.headers.etag;
    return {
      object: fetched,
      hit: unchanged ? 'RefreshHit from cloudfront' : 'Miss from cloudfront',
    };
  }

  private async fetch(key: string, now: number): Promise<EdgeObject | undefined> {
    let object: GetObjectCommandOutput;
    try {
      object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      // With OAC and no s3:ListBucket, S3 answers a missing key 403 as well.
      if (status === 404 || status === 403) return undefined;
      throw error;
    }
    const body = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
    const headers: Record<string, string> = {
      ...(object.ContentType !== undefined ? { 'content-type': object.ContentType } : {}),
      ...(object.CacheControl !== undefined ? { 'cache-control': object.CacheControl } : {}),
      ...(object.ETag !== undefined ? { etag: object.ETag } : {}),
      ...(object.LastModified !== undefined
        ? { 'last-modified': object.LastModified.toUTCString() }
        : {}),
    };
    const ttl = edgeTtlSeconds(object.CacheControl, this.maxTtlSeconds);
    return { body, headers, storedAt: now, expiresAt: now + ttl * 1000 };
  }

  private keep(key: string, object: EdgeObject): void {
    if (object.body.length > MAX_CACHED_OBJECT_BYTES || object.expiresAt <= object.storedAt) return;
    this.objects.set(key, object);
    this.bytes += object.body.length;
    // Oldest first (a Map keeps insertion order).
    for (const [oldKey] of this.objects) {
      if (this.bytes <= MAX_CACHED_BYTES) break;
      this.forget(oldKey);
    }
  }

  private forget(key: string): void {
    const old = this.objects.get(key);
    if (old === undefined) return;
    this.objects.delete(key);
    this.bytes -= old.body.length;
  }
}

/** A single `bytes=` range, as S3 and CloudFront read it; undefined means the whole object. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (match === null) return undefined; // absent, or several ranges: the whole object
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return end < start ? undefined : { start, end };
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
  const edge = new EdgeCache(s3, options.bucket, options.maxTtlSeconds);

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
    const cached = await edge.lookup(key);
    if (cached === undefined) {
      deny(response);
      return;
    }
    const { object, hit } = cached;
    const size = object.body.length;
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      response.writeHead(
        416,
        edgeHeaders(416, { 'content-range': `bytes */${size}` }, request.headers.origin),
      );
      response.end();
      return;
    }
    const headers: Record<string, string> = edgeHeaders(
      200,
      {
        'x-cache': hit,
        ...(hit !== 'Miss from cloudfront'
          ? { age: String(Math.floor((Date.now() - object.storedAt) / 1000)) }
          : {}),
        'accept-ranges': 'bytes',
        ...object.headers,
        'content-length': String(range === undefined ? size : range.end - range.start + 1),
        ...(range !== undefined
          ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` }
          : {}),
      },
      request.headers.origin,
    );
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && object.headers.etag === ifNoneMatch) {
      delete headers['content-length'];
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(range !== undefined ? 206 : 200, headers);
    if (method === 'HEAD') {
      response.end();
      return;
    }
    response.end(
      range === undefined ? object.body : object.body.subarray(range.start, range.end + 1),
    );
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
