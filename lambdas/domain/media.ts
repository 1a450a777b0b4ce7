/**
 * Media: starting an upload (a media record plus a presigned PUT), reading a media record, and
 * rendering a record as the API's media object. The transcoder (lambdas/media/) uses renderMedia
 * too, so every media object the API shows has one shape.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIMITS, MEDIA_PREFIXES, METADATA_KEYS } from '../../app/model';
import { DomainError, invalidRequest } from '../shared/errors';
import { nowMs, type Deps, type UploadDeps } from './deps';
import { batchGetAll } from './dynamo';
import { isMediaId, newMediaId } from './ids';
import type { MediaFailure, MediaRecord, MediaStatus } from './records';
import { mediaNotFound, userText } from './validation';

export interface MediaVariantObject {
  readonly name: string;
  readonly url: string;
  readonly content_type: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

/** The API's media object. */
export interface MediaObject {
  readonly media_id: string;
  readonly status: MediaStatus;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly alt_text: string | null;
  readonly width?: number;
  readonly height?: number;
  readonly duration_ms?: number;
  readonly blurhash?: string;
  readonly variants: MediaVariantObject[];
  readonly failure: MediaFailure | null;
  /** Present while the media is not final: when the client should look again. */
  readonly check_after_secs?: number;
}

/** How long a client should wait before polling media that is still changing. */
const CHECK_AFTER_SECS: Partial<Record<MediaStatus, number>> = {
  pending_upload: 2,
  processing: 1,
};

export function isFinalStatus(status: MediaStatus): boolean {
  return status === 'ready' || status === 'failed';
}

/** CDN URL of a processed object key: CDN_BASE_URL + '/' + key, each segment URL-encoded. */
export function cdnUrl(cdnBaseUrl: string, key: string): string {
  return `${cdnBaseUrl.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Renders a stored media record as the API's media object, with variants as CDN URLs. */
export function renderMedia(record: MediaRecord, cdnBaseUrl: string): MediaObject {
  const checkAfter = CHECK_AFTER_SECS[record.status];
  return {
    media_id: record.media_id,
    status: record.status,
    content_type: record.content_type,
    size_bytes: record.size_bytes,
    alt_text: record.alt_text ?? null,
    ...(record.width !== undefined ? { width: record.width } : {}),
    ...(record.height !== undefined ? { height: record.height } : {}),
    ...(record.duration_ms !== undefined ? { duration_ms: record.duration_ms } : {}),
    ...(record.blurhash !== undefined ? { blurhash: record.blurhash } : {}),
    variants: (record.variants ?? []).map((variant) => ({
      name: variant.name,
      url: cdnUrl(cdnBaseUrl, variant.key),
      content_type: variant.content_type,
      width: variant.width,
      height: variant.height,
      bytes: variant.bytes,
    })),
    failure: record.failure ?? null,
    ...(checkAfter !== undefined ? { check_after_secs: checkAfter } : {}),
  };
}

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

export interface InitMediaResult {
  readonly media_id: string;
  readonly status: 'pending_upload';
  readonly upload_url: string;
  readonly upload_method: 'PUT';
  readonly upload_headers: Record<string, string>;
  readonly expires_at: string;
}

/**
 * Creates the media record (pending_upload, unattached, expiring) and a presigned PUT for
 * uploads/{media_id} that signs Content-Type and Content-Length, so S3 refuses any other type or
 * length, valid for LIMITS.uploadUrlExpiresSeconds.
 */
export async function initMedia(
  deps: UploadDeps,
  ownerId: string,
  input: InitMediaInput,
): Promise<InitMediaResult> {
  const now = nowMs(deps);
  const mediaId = newMediaId(now);
  const createdAt = new Date(now).toISOString();
  const uploadKey = `${MEDIA_PREFIXES.uploads}${mediaId}`;
  const record: MediaRecord = {
    ...METADATA_KEYS.media(mediaId),
    media_id: mediaId,
    owner_id: ownerId,
    status: 'pending_upload',
    content_type: input.content_type,
    size_bytes: input.size_bytes,
    alt_text: input.alt_text,
    upload_key: uploadKey,
    created_at: createdAt,
    updated_at: createdAt,
    expires_at: Math.floor(now / 1000) + LIMITS.unattachedMediaTtlSeconds,
    gsi2pk: METADATA_KEYS.unattachedIndex.pk,
    gsi2sk: createdAt,
  };
  await deps.dynamo.send(
    new PutCommand({
      TableName: deps.tables.metadata,
      Item: record,
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  const signed = new Set(['content-type', 'content-length']);
  const uploadUrl = await getSignedUrl(
    deps.s3,
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: uploadKey,
      ContentType: input.content_type,
      ContentLength: input.size_bytes,
    }),
    {
      expiresIn: LIMITS.uploadUrlExpiresSeconds,
      signableHeaders: signed,
      unhoistableHeaders: signed,
      signingDate: new Date(now),
    },
  );
  return {
    media_id: mediaId,
    status: 'pending_upload',
    upload_url: uploadUrl,
    upload_method: 'PUT',
    upload_headers: {
      'content-type': input.content_type,
      'content-length': String(input.size_bytes),
    },
    expires_at: new Date(now + LIMITS.uploadUrlExpiresSeconds * 1000).toISOString(),
  };
}

/**
 * GET /v1/media/{media_id}: the owner always sees their media; anyone sees media attached to a
 * tweet. Everything else, including malformed ids, is media_not_found.
 */
export async function getMedia(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'cdnBaseUrl'>,
  callerId: string,
  mediaId: string,
): Promise<MediaObject> {
  if (!isMediaId(mediaId)) throw mediaNotFound();
  const out = await deps.dynamo.send(
    new GetCommand({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      ConsistentRead: true,
    }),
  );
  const record = out.Item as MediaRecord | undefined;
  if (record === undefined) throw mediaNotFound();
  if (record.owner_id !== callerId && record.tweet_id === undefined) throw mediaNotFound();
  return renderMedia(record, deps.cdnBaseUrl);
}

/** Reads media records by id (strongly consistent), keyed by media_id. */
export async function loadMedia(
  deps: Pick<Deps, 'dynamo' | 'tables'>,
  mediaIds: readonly string[],
): Promise<Map<string, MediaRecord>> {
  const unique = [...new Set(mediaIds)];
  const items =
    unique.length === 0
      ? []
      : await batchGetAll(
          deps.dynamo,
          deps.tables.metadata,
          unique.map((id) => METADATA_KEYS.media(id)),
          { consistent: true },
        );
  const byId = new Map<string, MediaRecord>();
  for (const item of items) {
    const record = item as unknown as MediaRecord;
    byId.set(record.media_id, record);
  }
  return byId;
}
