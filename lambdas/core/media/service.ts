/**
 * Reading a media record for the API: GET /v1/media/{id}, and the owner's record for completing
 * an upload. Rendering is render.ts (tweets and profiles use it too, so every media object has
 * one shape); starting an upload is upload.ts, so tweet reads never load the S3 presigner.
 */
import type { Deps } from '../ports';
import { isMediaId } from '../ids';
import { renderMedia, type MediaObject } from './render';
import { findMedia, type MediaRecord } from './store';
import { mediaNotFound } from '../validation';

/**
 * GET /v1/media/{media_id}: the owner always sees their media; anyone sees media attached to a
 * tweet or a profile (an avatar). Everything else, including malformed ids, is media_not_found.
 */
export async function getMedia(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'cdnBaseUrl'>,
  callerId: string,
  mediaId: string,
): Promise<MediaObject> {
  const record = await readMediaRecord(deps, mediaId);
  const isPublic = record.tweet_id !== undefined || record.avatar_of !== undefined;
  if (record.owner_id !== callerId && !isPublic) throw mediaNotFound();
  return renderMedia(record, deps.cdnBaseUrl);
}

/** The media record (strongly consistent); media_not_found for a malformed or unknown id. */
export async function readMediaRecord(
  deps: Pick<Deps, 'dynamo' | 'tables'>,
  mediaId: string,
): Promise<MediaRecord> {
  if (!isMediaId(mediaId)) throw mediaNotFound();
  const record = await findMedia(deps, mediaId);
  if (record === undefined) throw mediaNotFound();
  return record;
}
