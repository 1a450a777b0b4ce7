/**
 * Stored shapes shared by the API handlers and the fanout. Keys are built with METADATA_KEYS from
 * the app model; attribute names are snake_case as in the API. The media record is in
 * media/store.ts.
 */

/** The media item's shapes live with its store; re-exported for the tweets' and profiles' modules. */
export type { MediaFailure, MediaRecord, MediaStatus, MediaVariant } from './media/store';

/** Item in the tweets table. */
export interface TweetRecord {
  readonly user_id: string;
  readonly tweet_id: string;
  readonly text: string;
  readonly created_at: string;
  readonly media_ids: string[];
}
