/**
 * Uploads in parts (S3 multipart upload) for files above LIMITS.multipartThresholdBytes:
 * - init starts the multipart upload and presigns one UploadPart URL per part, each with its
 *   exact Content-Length signed, so S3 refuses a part of any other length;
 * - POST /v1/media/{media_id}/complete checks the client's part list against S3's (ListParts)
 *   and assembles the object, whose ObjectCreated:CompleteMultipartUpload event starts the
 *   transcoder as a single PUT's does. Completing again is a no-op.
 * Abandoned uploads are aborted by the media sweeper (with the record) and by the bucket's
 * AbortIncompleteMultipartUpload lifecycle rule.
 */
import type { Part } from '@aws-sdk/client-s3';
import { DomainError, invalidRequest } from '../errors';
import { nowMs, type UploadDeps } from '../ports';
import { renderMedia, type MediaObject } from './render';
import { readMediaRecord } from './service';
import { markUploadCompleted, type MediaRecord } from './store';
import { completeMultipartUpload, listUploadedParts, partSizes } from './store-uploads';
import { mediaNotFound } from '../validation';

export interface CompletedPart {
  readonly part_number: number;
  readonly etag: string;
}

/** Validates the POST /v1/media/{media_id}/complete body: `{ parts: [{ part_number, etag }] }`. */
export function parseCompleteUpload(body: Record<string, unknown>): CompletedPart[] {
  const parts = body.parts;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > 10_000) {
    throw invalidRequest('parts must be a non-empty array of { part_number, etag }');
  }
  return parts.map((part: unknown) => {
    const { part_number: number, etag } = (part ?? {}) as Record<string, unknown>;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
      throw invalidRequest('part_number must be a positive integer');
    }
    if (typeof etag !== 'string' || etag.length === 0 || etag.length > 256) {
      throw invalidRequest('etag must be the ETag S3 returned for the part');
    }
    return { part_number: number, etag };
  });
}

const unquote = (etag: string) => etag.replace(/"/g, '');

const partRefused = (code: string, message: string) => new DomainError(409, code, message);

export type CompleteDeps = UploadDeps & { readonly cdnBaseUrl: string };

/**
 * Assembles the parts of the caller's upload. The listed parts must be exactly 1..part_count, each
 * present in S3 with the listed ETag and its signed size; otherwise 400 `upload_parts_incomplete`
 * (the list itself is short or has strays) or 409 `upload_part_missing` / `upload_part_mismatch`
 * (S3 has not got that part, or another one), and nothing changes. Completing twice returns the
 * media as it is.
 */
export async function completeMediaUpload(
  deps: CompleteDeps,
  callerId: string,
  mediaId: string,
  parts: readonly CompletedPart[],
): Promise<MediaObject> {
  const record = await readOwnRecord(deps, callerId, mediaId);
  if (record.upload_id === undefined || record.part_count === undefined) {
    throw partRefused('not_multipart', 'This media is uploaded with one PUT; nothing to complete');
  }
  if (record.upload_completed_at !== undefined || record.status !== 'pending_upload') {
    return renderMedia(record, deps.cdnBaseUrl);
  }
  const expected = partSizes(record.size_bytes);
  const listed = new Map(parts.map((part) => [part.part_number, unquote(part.etag)]));
  if (listed.size !== parts.length || listed.size !== expected.length) {
    throw new DomainError(
      400,
      'upload_parts_incomplete',
      `List each of the ${expected.length} parts exactly once`,
    );
  }
  const uploadId = record.upload_id;
  const key = record.upload_key;
  let stored: Map<number, Part>;
  try {
    stored = await listUploadedParts(deps.s3, deps.bucket, key, uploadId);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchUpload')
      return alreadyDone(deps, callerId, mediaId);
    throw error;
  }
  for (const [index, size] of expected.entries()) {
    const number = index + 1;
    const etag = listed.get(number);
    if (etag === undefined) {
      throw new DomainError(400, 'upload_parts_incomplete', `Part ${number} is not listed`);
    }
    const part = stored.get(number);
    if (part === undefined) {
      throw partRefused('upload_part_missing', `Part ${number} has not been uploaded`);
    }
    if (unquote(part.ETag ?? '') !== etag || part.Size !== size) {
      throw partRefused('upload_part_mismatch', `Part ${number} in S3 is not the one listed`);
    }
  }
  try {
    await completeMultipartUpload(
      deps.s3,
      deps.bucket,
      key,
      uploadId,
      expected.map((_, i) => ({ PartNumber: i + 1, ETag: stored.get(i + 1)?.ETag })),
    );
  } catch (error) {
    // A concurrent complete won the race: the object exists, or is being assembled.
    if ((error as { name?: string }).name === 'NoSuchUpload')
      return alreadyDone(deps, callerId, mediaId);
    throw error;
  }
  const completedAt = await markUploadCompleted(deps, mediaId, nowMs(deps));
  return renderMedia({ ...record, upload_completed_at: completedAt }, deps.cdnBaseUrl);
}

async function readOwnRecord(
  deps: CompleteDeps,
  callerId: string,
  mediaId: string,
): Promise<MediaRecord> {
  const record = await readMediaRecord(deps, mediaId);
  if (record.owner_id !== callerId) throw mediaNotFound();
  return record;
}

/**
 * S3 no longer knows the upload: completed by a concurrent or earlier request (the record then
 * says so, or the transcoder has moved it on), or aborted (the media expired).
 */
async function alreadyDone(
  deps: CompleteDeps,
  callerId: string,
  mediaId: string,
): Promise<MediaObject> {
  const record = await readOwnRecord(deps, callerId, mediaId);
  if (record.upload_completed_at !== undefined || record.status !== 'pending_upload') {
    return renderMedia(record, deps.cdnBaseUrl);
  }
  throw partRefused('upload_not_found', 'The upload was aborted or has expired; start a new one');
}
