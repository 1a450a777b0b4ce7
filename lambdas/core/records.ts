/**
 * Stored shapes shared by the API handlers, the fanout and the transcoder. Keys are built with
 * METADATA_KEYS from the app model; attribute names are snake_case as in the API.
 */

export type MediaStatus = 'pending_upload' | 'processing' | 'ready' | 'failed';

export interface MediaVariant {
  /** e.g. large, medium, small, thumb, video, poster */
  readonly name: string;
  /** Object key under the processed prefix; the API turns it into a CDN URL. */
  readonly key: string;
  readonly content_type: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

export interface MediaFailure {
  readonly code: string;
  readonly message: string;
}

/** Item in the metadata table at METADATA_KEYS.media(media_id). */
export interface MediaRecord {
  readonly pk: string;
  readonly sk: string;
  readonly media_id: string;
  readonly owner_id: string;
  status: MediaStatus;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly alt_text: string | null;
  /** uploads/{media_id} */
  readonly upload_key: string;
  /** Set for uploads in parts: S3's multipart upload id and the number of parts. */
  readonly upload_id?: string;
  readonly part_count?: number;
  /** When POST /complete assembled the parts (makes a repeated complete a no-op). */
  upload_completed_at?: string;
  readonly created_at: string;
  updated_at: string;
  /** Set when a tweet attaches it; attached media is public and never expires. */
  tweet_id?: string;
  /** Set while it is this user's avatar (profiles.ts): attached, so never swept. */
  avatar_of?: string;
  /**
   * Set when its tweet was deleted or it stopped being an avatar: the media is no longer
   * attached (tweet_id or avatar_of removed), can never
   * be attached again, and is back in the unattached index for the media sweeper.
   */
  detached_at?: string;
  /** Set by the media publisher once the variants are on the CDN (ready and attached). */
  published_at?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  blurhash?: string;
  variants?: MediaVariant[];
  failure?: MediaFailure | null;
  /** TTL (epoch seconds) while unattached. */
  expires_at?: number;
  /** Sparse GSI keys: gsi1 only while processing, gsi2 only while unattached. */
  gsi1pk?: string;
  gsi1sk?: string;
  gsi2pk?: string;
  gsi2sk?: string;
}

/** Item in the tweets table. */
export interface TweetRecord {
  readonly user_id: string;
  readonly tweet_id: string;
  readonly text: string;
  readonly created_at: string;
  readonly media_ids: string[];
}
