/**
 * Stored shapes shared by the API handlers and the fanout. Keys are built with METADATA_KEYS from
 * the app model; attribute names are snake_case as in the API. The media record's are in
 * media/store.ts.
 */

/** Item in the tweets table. */
export interface TweetRecord {
  readonly user_id: string;
  readonly tweet_id: string;
  readonly text: string;
  readonly created_at: string;
  readonly media_ids: string[];
}
