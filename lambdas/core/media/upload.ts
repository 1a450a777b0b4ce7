/**
 * POST /v1/media/init: a media record (pending_upload, unattached, expiring) plus a presigned PUT,
 * or presigned part URLs above LIMITS.multipartThresholdBytes (multipart.ts).
 */
import { LIMITS, MEDIA_PREFIXES } from '../../../app/model';
import { DomainError, invalidRequest } from '../errors';
import { nowMs, type UploadDeps } from '../ports';
import { newMediaId } from '../ids';
import {
  abortMultipartUpload,
  presignParts,
  presignUploadPut,
  startMultipartUpload,
  type UploadPartUrl,
} from './store-uploads';
import { insertMedia } from './store';
import { DEFAULT_UPLOAD_QUOTA, releaseUpload, reserveUpload } from './upload-quota';
import { userText } from '../validation';

export interface InitMediaInput {
  readonly content_type: string;
  readonly size_bytes: number;
  readonly alt_text: string | null;
}

/** Validates the POST /v1/media/init body. */
export function parseInitMedia(body: Record<string, unknown>): InitMediaInput {
  const contentType = body.content_type;
  if (typeof contentType !== 'string') throw invalidRequest('content_type must be a string');
  const normalizedType = contentType.toLowerCase();
  const maxBytes = Object.hasOwn(LIMITS.mediaTypes, normalizedType)
    ? LIMITS.mediaTypes[normalizedType]
    : undefined;
  if (maxBytes === undefined) {
    throw new DomainError(
      415,
      'unsupported_media_type',
      `content_type must be one of ${Object.keys(LIMITS.mediaTypes).join(', ')}`,
    );
  }
  const size = body.size_bytes;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw invalidRequest('size_bytes must be a positive integer');
  }
  if (size > maxBytes) {
    throw new DomainError(
      413,
      'media_too_large',
      `${normalizedType} uploads are limited to ${maxBytes} bytes`,
    );
  }
  const alt = body.alt_text;
  if (alt !== undefined && alt !== null && typeof alt !== 'string') {
    throw invalidRequest('alt_text must be a string or null');
  }
  const altText =
    typeof alt === 'string'
      ? userText(alt, 'alt_text', LIMITS.altTextMaxChars, 'invalid_request')
      : null;
  return { content_type: normalizedType, size_bytes: size, alt_text: altText };
}

export type InitMediaResult = SinglePutUpload | PartsUpload;

interface UploadCommon {
  readonly media_id: string;
  readonly status: 'pending_upload';
  readonly expires_at: string;
}

export interface SinglePutUpload extends UploadCommon {
  readonly upload_url: string;
  readonly upload_method: 'PUT';
  readonly upload_headers: Record<string, string>;
}

export interface PartsUpload extends UploadCommon {
  readonly upload_method: 'PARTS';
  readonly part_size_bytes: number;
  readonly parts: UploadPartUrl[];
}

/**
 * Creates the media record (pending_upload, unattached, expiring) and a presigned PUT for
 * uploads/{media_id} that signs Content-Type, Content-Length and If-None-Match: *, so S3 refuses
 * any other type or length and any second upload to the key, valid for
 * LIMITS.uploadUrlExpiresSeconds. The caller's upload quota (pending uploads, bytes per day) is
 * reserved first; a refused reservation writes nothing. Above LIMITS.multipartThresholdBytes the
 * record carries an S3 multipart upload instead, and the answer one URL per part.
 */
export async function initMedia(
  deps: UploadDeps,
  ownerId: string,
  input: InitMediaInput,
): Promise<InitMediaResult> {
  const now = nowMs(deps);
  const mediaId = newMediaId(now);
  const uploadKey = `${MEDIA_PREFIXES.uploads}${mediaId}`;
  const inParts = input.size_bytes > LIMITS.multipartThresholdBytes;
  const urlExpiresAt =
    now + (inParts ? LIMITS.multipartUrlExpiresSeconds : LIMITS.uploadUrlExpiresSeconds) * 1000;
  await reserveUpload(
    deps,
    deps.uploadQuota ?? DEFAULT_UPLOAD_QUOTA,
    ownerId,
    mediaId,
    input.size_bytes,
    now,
    urlExpiresAt,
  );
  let uploadId: string | undefined;
  try {
    if (inParts) {
      uploadId = await startMultipartUpload(deps.s3, deps.bucket, uploadKey, input.content_type);
    }
  } catch (error) {
    await releaseUpload(deps, ownerId, mediaId, input.size_bytes, now);
    throw error;
  }
  try {
    await insertMedia(deps, {
      mediaId,
      ownerId,
      contentType: input.content_type,
      sizeBytes: input.size_bytes,
      altText: input.alt_text,
      uploadKey,
      ...(uploadId !== undefined
        ? {
            parts: {
              uploadId,
              count: Math.ceil(input.size_bytes / LIMITS.multipartPartBytes),
            },
          }
        : {}),
      nowMs: now,
    });
  } catch (error) {
    await releaseUpload(deps, ownerId, mediaId, input.size_bytes, now);
    if (uploadId !== undefined) {
      await abortMultipartUpload(deps.s3, deps.bucket, uploadKey, uploadId).catch(() => {
        // The bucket's lifecycle rule aborts it within a day.
      });
    }
    throw error;
  }
  if (uploadId !== undefined) {
    return {
      media_id: mediaId,
      status: 'pending_upload',
      upload_method: 'PARTS',
      part_size_bytes: LIMITS.multipartPartBytes,
      parts: await presignParts(
        deps.s3,
        deps.bucket,
        uploadKey,
        uploadId,
        input.size_bytes,
        new Date(now),
      ),
      expires_at: new Date(urlExpiresAt).toISOString(),
    };
  }
  // If-None-Match: * makes the URL one-shot: S3 creates the object once and refuses to replace it.
  const put = await presignUploadPut(
    deps.s3,
    deps.bucket,
    { key: uploadKey, contentType: input.content_type, sizeBytes: input.size_bytes },
    new Date(now),
  );
  return {
    media_id: mediaId,
    status: 'pending_upload',
    upload_url: put.url,
    upload_method: 'PUT',
    upload_headers: put.headers,
    expires_at: new Date(urlExpiresAt).toISOString(),
  };
}
