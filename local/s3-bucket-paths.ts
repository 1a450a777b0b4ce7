// Own code: works around s3rver's bucket-path signature bug (docs/own-code.md).
/**
 * s3rver signs bucket-level requests (ListObjectsV2, DeleteObjects, HeadBucket) over `/bucket`,
 * but the SDK signs the path-style URL it sends, `/bucket/`, so every such request fails with
 * SignatureDoesNotMatch. This checks the client's signature over the path it really sent and,
 * only if it is valid, re-signs the same request for `/bucket` before s3rver sees it. Invalid
 * signatures pass through untouched, so s3rver still rejects them.
 */
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseAmzDate, SIGV4_AUTHORIZATION } from './sigv4-parts';

async function sign(
  request: IncomingMessage,
  path: string,
  query: URLSearchParams,
  signedHeaders: string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  service: string,
  signingDate: Date,
): Promise<string | undefined> {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const queryRecord: Record<string, string | string[]> = {};
  for (const [key, value] of query) {
    const existing = queryRecord[key];
    queryRecord[key] = existing === undefined ? value : [existing, value].flat();
  }
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({ method: request.method ?? 'GET', path, query: queryRecord, headers }),
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  return signed.headers.authorization;
}

/**
 * Rewrites a validly signed `/bucket/` request to `/bucket`, re-signed, in place. Returns whether
 * it did.
 */
export async function fixBucketLevelRequest(
  request: IncomingMessage,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://s3.local');
  const bucketOnly = /^\/([^/]+)\/$/.exec(url.pathname);
  const match = SIGV4_AUTHORIZATION.exec(request.headers.authorization ?? '');
  const amzDate = request.headers['x-amz-date'];
  if (bucketOnly === null || match === null || typeof amzDate !== 'string') return false;
  const [, accessKeyId, , region, service, signedHeaderList, signature] =
    match as unknown as string[];
  const signingDate = parseAmzDate(amzDate);
  if (accessKeyId !== credentials.accessKeyId || signingDate === undefined) return false;
  const signedHeaders = (signedHeaderList as string).split(';');
  const args = [credentials, region as string, service as string, signingDate] as const;
  const expected = await sign(request, url.pathname, url.searchParams, signedHeaders, ...args);
  if (expected === undefined || !expected.endsWith(`Signature=${signature}`)) return false;
  const bucketPath = url.pathname.slice(0, -1);
  const resigned = await sign(request, bucketPath, url.searchParams, signedHeaders, ...args);
  if (resigned === undefined) return false;
  request.headers.authorization = resigned;
  request.url = `${bucketPath}${url.search}`;
  return true;
}
