/**
 * S3 side of the pipeline: pin and stream the upload to ephemeral storage (never whole in memory),
 * write outputs under content-addressed keys in the staged prefix, publish them to (and withdraw
 * them from) the served prefix, and remove a media's objects.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MEDIA_PREFIXES, VARIANT_CACHE_CONTROL } from '../../app/model';
import { mediaFailure } from './failure';
import type { OutputFile } from './outputs';
import { PIPELINE_VERSION } from './settings';

export const uploadKey = (mediaId: string) => `${MEDIA_PREFIXES.uploads}${mediaId}`;
export const processedPrefix = (mediaId: string) => `${MEDIA_PREFIXES.processed}${mediaId}/`;
const stagedPrefix = (mediaId: string) => `${MEDIA_PREFIXES.staged}${mediaId}/`;

/**
 * Where the transcoder stores a variant whose served key is `processedKey` (the key the record
 * and its URL carry): the same path under the staged prefix.
 */
export function stagedKey(processedKey: string): string {
  if (!processedKey.startsWith(MEDIA_PREFIXES.processed)) {
    throw new Error(`not a processed media key: ${processedKey}`);
  }
  return `${MEDIA_PREFIXES.staged}${processedKey.slice(MEDIA_PREFIXES.processed.length)}`;
}

const isNotFound = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'NotFound' ||
    error.name === 'NoSuchKey' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

export interface UploadHead {
  readonly size: number;
  readonly etag: string | undefined;
}

export async function headUpload(s3: S3Client, bucket: string, key: string): Promise<UploadHead> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: head.ContentLength ?? 0, etag: head.ETag };
  } catch (error) {
    if (isNotFound(error)) {
      throw mediaFailure('upload_missing', 'The upload was not found. Upload the file again.');
    }
    throw error;
  }
}

/**
 * Streams the object (the version HEAD saw, via If-Match) to a file, hashing on the way. Stops
 * with `size_mismatch` as soon as more bytes arrive than expected.
 * Returns the hex SHA-256 of the bytes.
 */
export async function downloadUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  head: UploadHead,
  destination: string,
): Promise<string> {
  const object = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(head.etag ? { IfMatch: head.etag } : {}),
    }),
  );
  const hash = createHash('sha256');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > head.size) {
        done(mediaFailure('size_mismatch', 'The upload is longer than declared.'));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(object.Body as Readable, meter, createWriteStream(destination));
  if (received !== head.size) {
    throw mediaFailure('size_mismatch', 'The upload is shorter than declared.');
  }
  return hash.digest('hex');
}

/**
 * media/{media_id}/{digest}/: the digest covers the upload's bytes and the pipeline version, so
 * a duplicate run writes the very same keys, and new content (or a new pipeline) gets new keys
 * that no cache has seen.
 */
export function outputPrefix(mediaId: string, inputSha256: string): string {
  const digest = createHash('sha256')
    .update(`${PIPELINE_VERSION}:${inputSha256}`)
    .digest('hex')
    .slice(0, 16);
  return `${processedPrefix(mediaId)}${digest}/`;
}

export const outputKey = (prefix: string, file: OutputFile) =>
  `${prefix}${file.name}.${file.extension}`;

export async function putOutput(
  s3: S3Client,
  bucket: string,
  key: string,
  file: OutputFile,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(file.path),
      ContentLength: file.bytes,
      ContentType: file.contentType,
      // Copied with the object on publish, so the served copy carries it.
      CacheControl: VARIANT_CACHE_CONTROL,
    }),
  );
}

/**
 * Copies staged variants to their served keys (a server-side copy: the bytes never pass through
 * the function; content type and Cache-Control come along). Repeating it writes the same bytes.
 * Returns false if a staged variant is missing (a permanent fault, not worth a retry).
 */
export async function publishVariants(
  s3: S3Client,
  bucket: string,
  processedKeys: readonly string[],
): Promise<boolean> {
  const copied = await Promise.all(
    processedKeys.map(async (key) => {
      try {
        await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: key,
            CopySource: `${bucket}/${stagedKey(key).split('/').map(encodeURIComponent).join('/')}`,
          }),
        );
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    }),
  );
  return copied.every(Boolean);
}

/** Deletes the served copies; the staged originals stay for the sweeper. */
export async function withdrawVariants(
  s3: S3Client,
  bucket: string,
  processedKeys: readonly string[],
): Promise<void> {
  await deleteKeys(s3, bucket, processedKeys, 'served variants');
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes uploads/{id} and everything under staged/{id}/ and media/{id}/. */
export async function deleteMediaObjects(
  s3: S3Client,
  bucket: string,
  mediaId: string,
): Promise<number> {
  const keys = [
    uploadKey(mediaId),
    ...(await listKeys(s3, bucket, stagedPrefix(mediaId))),
    ...(await listKeys(s3, bucket, processedPrefix(mediaId))),
  ];
  await deleteKeys(s3, bucket, keys, `objects of media ${mediaId}`);
  return keys.length;
}

async function deleteKeys(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  what: string,
): Promise<void> {
  for (let at = 0; at < keys.length; at += 1000) {
    const batch = keys.slice(at, at + 1000);
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) throw new Error(`could not delete ${failed.length} ${what}`);
  }
}
