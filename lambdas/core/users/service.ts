/**
 * Profiles: a unique handle, a display name, a bio and an avatar, on the user's profile item
 * (which also holds the follow counters; its items are the users store's, store.ts). The avatar is
 * an uploaded image (POST /v1/media/init, the same transcoder); its square `thumb` variants are
 * the avatar.
 */
import { LIMITS } from '../../../app/model';
import { DomainError, badRequest, invalidRequest, unprocessable } from '../errors';
import type { Deps } from '../ports';
import { cancellationReasons, conflicted, done, retryTransaction } from '../../platform/dynamo';
import { newestTweetIds } from '../tweets/store-sources';
import { invalidateCachedTweets } from '../tweets/store';
import { isMediaId } from '../ids';
import type { MediaObject } from '../media/render';
import { findMedia, loadMedia, type MediaRecord } from '../media/store';
import { userText } from '../validation';
import { ensureProfile, isHandle, userNotFound } from './users';
import {
  hasHandle,
  planProfileUpdate,
  renderAvatar,
  readHandleOwner,
  readProfileSeenBy,
  writeProfileUpdate,
  type ClaimedProfile,
  type ProfileUpdate,
} from './store';

export type { ProfileUpdate } from './store';

type Store = Pick<Deps, 'dynamo' | 'tables'>;

/** The API's profile object. */
export interface ProfileObject {
  readonly user_id: string;
  readonly handle: string;
  readonly display_name: string;
  readonly bio: string;
  readonly avatar: MediaObject | null;
  readonly follower_count: number;
  readonly following_count: number;
}

const handleTaken = (handle: string) =>
  new DomainError(409, 'handle_taken', `The handle ${handle} is taken`);

const readMedia = (deps: Store, mediaId: string) => findMedia(deps, mediaId);

/** Validates a PUT /v1/me/profile body: known fields only are read; at least one is required. */
export function parseProfileUpdate(body: Record<string, unknown>): ProfileUpdate {
  const update: {
    handle?: string;
    display_name?: string;
    bio?: string;
    avatar_media_id?: string | null;
  } = {};
  const { handle, display_name: displayName, bio, avatar_media_id: avatar } = body;
  if (handle !== undefined) {
    if (typeof handle !== 'string') throw invalidRequest('handle must be a string');
    if (!isHandle(handle)) {
      throw badRequest('invalid_handle', 'A handle is 3 to 30 letters, digits or underscores');
    }
    update.handle = handle;
  }
  if (displayName !== undefined) {
    if (typeof displayName !== 'string') throw invalidRequest('display_name must be a string');
    const text = userText(
      displayName,
      'display_name',
      LIMITS.displayNameMaxCodePoints,
      'display_name_too_long',
    ).trim();
    if (/[\r\n\t]/.test(text)) throw invalidRequest('display_name must be one line');
    update.display_name = text;
  }
  if (bio !== undefined) {
    if (typeof bio !== 'string') throw invalidRequest('bio must be a string');
    update.bio = userText(bio, 'bio', LIMITS.bioMaxCodePoints, 'bio_too_long');
  }
  if (avatar !== undefined) {
    if (avatar !== null && typeof avatar !== 'string') {
      throw invalidRequest('avatar_media_id must be a string or null');
    }
    update.avatar_media_id = avatar;
  }
  if (Object.keys(update).length === 0) {
    throw invalidRequest('Give at least one of handle, display_name, bio, avatar_media_id');
  }
  return update;
}

/** Why a media cannot become this user's avatar, as the API's error (undefined: it can). */
function avatarProblem(
  userId: string,
  mediaId: string,
  record: MediaRecord | undefined,
): DomainError | undefined {
  if (record === undefined || record.owner_id !== userId || record.detached_at !== undefined) {
    return unprocessable('media_not_found', `Media ${mediaId} does not exist`);
  }
  if (!LIMITS.avatarMediaTypes.includes(record.content_type)) {
    return unprocessable(
      'avatar_not_image',
      `An avatar must be one of ${LIMITS.avatarMediaTypes.join(', ')}`,
    );
  }
  if (record.status === 'failed') {
    return unprocessable('media_failed', `Media ${mediaId} failed processing`);
  }
  if (record.tweet_id !== undefined || (record.avatar_of ?? userId) !== userId) {
    return unprocessable('media_already_attached', `Media ${mediaId} is attached already`);
  }
  return undefined;
}

/**
 * PUT /v1/me/profile: changes the given fields in one transaction. A new handle is claimed and the
 * old one released in it (409 `handle_taken` if someone holds it); a new avatar is attached and
 * the old one detached in it. The transaction is conditional on the profile read, so a concurrent
 * update makes it read again and retry, never overwrite a handle or avatar it did not see.
 */
export async function updateProfile(
  deps: Deps,
  userId: string,
  update: ProfileUpdate,
): Promise<ProfileObject> {
  if (update.avatar_media_id !== undefined && update.avatar_media_id !== null) {
    const mediaId = update.avatar_media_id;
    if (!isMediaId(mediaId))
      throw unprocessable('media_not_found', `Media ${mediaId} does not exist`);
    // Checked before writing for a precise error; the transaction's condition holds it.
    const problem = avatarProblem(userId, mediaId, await readMedia(deps, mediaId));
    if (problem !== undefined) throw problem;
  }
  return retryTransaction(async () => {
    const current = await ensureProfile(deps, userId);
    const planned = planProfileUpdate(deps, userId, current, update);
    try {
      await writeProfileUpdate(deps, planned);
      const { bio: _bio, ...shown } = update;
      if (Object.keys(shown).length > 0) await refreshAuthorTweets(deps, userId);
      return done((await renderProfiles(deps, [updated(current, update)]))[0]!);
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons === undefined) throw error;
      const failed = planned.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed');
      if (failed.some((p) => p.onConditionFailed === 'handle_taken')) {
        throw handleTaken(update.handle ?? '');
      }
      if (failed.some((p) => p.onConditionFailed === 'avatar')) {
        const mediaId = update.avatar_media_id ?? '';
        throw (
          avatarProblem(userId, mediaId, await readMedia(deps, mediaId)) ??
          unprocessable('media_already_attached', `Media ${mediaId} is attached already`)
        );
      }
      return conflicted(error);
    }
  });
}

/** The profile as the update left it. */
function updated(current: ClaimedProfile, update: ProfileUpdate): ClaimedProfile {
  const { avatar_media_id: avatar, ...text } = update;
  const { avatar_media_id: oldAvatar, ...rest } = current;
  const avatarAfter = avatar === undefined ? oldAvatar : (avatar ?? undefined);
  return {
    ...rest,
    ...text,
    ...(update.handle !== undefined ? { handle_generated: false } : {}),
    ...(avatarAfter !== undefined ? { avatar_media_id: avatarAfter } : {}),
  };
}

/** Profiles as the API shows them, their avatars read in one BatchGet. */
async function renderProfiles(
  deps: Deps,
  profiles: readonly ClaimedProfile[],
): Promise<ProfileObject[]> {
  const byId = await loadMedia(
    deps,
    profiles.flatMap((p) => (p.avatar_media_id !== undefined ? [p.avatar_media_id] : [])),
  );
  return profiles.map((profile) => {
    const avatar =
      profile.avatar_media_id !== undefined ? byId.get(profile.avatar_media_id) : undefined;
    return {
      user_id: profile.user_id,
      handle: profile.handle,
      display_name: profile.display_name ?? '',
      bio: profile.bio ?? '',
      avatar: avatar === undefined ? null : renderAvatar(avatar, deps.cdnBaseUrl),
      follower_count: profile.follower_count ?? 0,
      following_count: profile.following_count ?? 0,
    };
  });
}

/** GET /v1/me: the caller's profile (created on their first call), and whether they chose its handle. */
export async function getMe(
  deps: Deps,
  userId: string,
): Promise<ProfileObject & { handle_generated: boolean }> {
  const profile = await ensureProfile(deps, userId);
  const [rendered] = await renderProfiles(deps, [profile]);
  return { ...rendered!, handle_generated: profile.handle_generated === true };
}

/**
 * GET /v1/profiles/{handle}: the user holding the handle (any case), and whether the caller follows
 * them. An unknown or malformed handle is 404 `user_not_found`.
 */
export async function getProfileByHandle(
  deps: Deps,
  callerId: string,
  handle: string,
): Promise<ProfileObject & { following: boolean }> {
  if (!isHandle(handle)) throw userNotFound();
  const userId = await readHandleOwner(deps, handle);
  if (userId === undefined) throw userNotFound();
  const { profile, following } = await readProfileSeenBy(deps, userId, callerId);
  // The claim and the profile change in one transaction; a profile naming another handle was
  // changed after the claim was read.
  if (!hasHandle(profile) || profile.handle.toLowerCase() !== handle.toLowerCase()) {
    throw userNotFound();
  }
  const [rendered] = await renderProfiles(deps, [profile]);
  return { ...rendered!, following };
}

/** Tweets whose cached author a profile change drops at once; older ones age out (1 h). */
export const AUTHOR_REFRESH_TWEETS = 200;

/**
 * After a profile change: drops the cached JSON of the user's newest tweets, so they show the new
 * handle, name and avatar on their next read. Best effort, like every cache write.
 */
async function refreshAuthorTweets(deps: Deps, userId: string): Promise<void> {
  const newest = await newestTweetIds(deps, userId, AUTHOR_REFRESH_TWEETS);
  await invalidateCachedTweets(deps.cache, 'refresh author tweets', newest);
}
