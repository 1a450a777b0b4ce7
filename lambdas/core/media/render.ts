/**
 * The API's media object: a stored media record as every response shows it (GET /v1/media/{id},
 * a tweet's media, a profile's avatar), with variants as CDN URLs. Pure: no I/O.
 */
import type { MediaFailure, MediaRecord, MediaStatus } from './store';

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

/**
 * Attached media (a tweet's, or an avatar) is shown ready once its variants are on the CDN (the
 * publisher sets published_at a moment after it became ready and attached); until then it is
 * still processing, so no client gets a URL that does not answer yet.
 */
function shownStatus(record: MediaRecord): MediaStatus {
  const attached = record.tweet_id !== undefined || record.avatar_of !== undefined;
  const awaitingPublish =
    record.status === 'ready' && attached && record.published_at === undefined;
  return awaitingPublish ? 'processing' : record.status;
}

/** Renders a stored media record as the API's media object, with variants as CDN URLs. */
export function renderMedia(record: MediaRecord, cdnBaseUrl: string): MediaObject {
  const status = shownStatus(record);
  const checkAfter = CHECK_AFTER_SECS[status];
  const variants = status === 'ready' ? (record.variants ?? []) : [];
  return {
    media_id: record.media_id,
    status,
    content_type: record.content_type,
    size_bytes: record.size_bytes,
    alt_text: record.alt_text ?? null,
    ...(record.width !== undefined ? { width: record.width } : {}),
    ...(record.height !== undefined ? { height: record.height } : {}),
    ...(record.duration_ms !== undefined ? { duration_ms: record.duration_ms } : {}),
    ...(record.blurhash !== undefined ? { blurhash: record.blurhash } : {}),
    variants: variants.map((variant) => ({
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
