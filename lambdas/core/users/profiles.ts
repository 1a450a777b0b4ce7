/**
 * Profiles: a unique handle, a display name, a bio and an avatar, on the user's profile item
 * (which also holds the follow counters). A handle is held by a HANDLE#{lower-case handle} item
 * written with attribute_not_exists in the same transaction as the profile that names it, and a
 * released handle's item is deleted in it: two users can never hold one handle, whatever the
 * concurrency. The avatar is an uploaded image (POST /v1/media/init, the same transcoder); its
 * square `thumb` variants are the avatar.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../../app/model';
import { DomainError, badRequest, invalidRequest, unprocessable } from '../errors';
import { nowMs, type Deps } from '../ports';
import {
  batchGetAll,
  cancellationReasons,
  conflicted,
  done,
  retryTransaction,
} from '../../platform/dynamo';
import { newestTweetIds } from '../timelines/sources';
import { cacheKeys } from '../cache-keys';
import { tryPipeline } from '../../platform/cache';
import { isMediaId } from '../ids';
import { isFinalStatus, loadMedia, renderMedia, type MediaObject } from '../media/service';
import type { MediaRecord } from '../records';
import { userText } from '../validation';
import {
  ensureProfile,
  hasHandle,
  isHandle,
  userNotFound,
  type ClaimedProfile,
  type ProfileRecord,
} from './users';

/** The transcoder's square crop (lambdas/transcoder/settings.ts IMAGE_VARIANTS, fit: cover). */
export const AVATAR_VARIANT = 'thumb';

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

/** One metadata item, strongly consistent. */
async function readItem<T>(deps: Store, key: Record<string, string>): Promise<T | undefined> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: key,
    ConsistentRead: true,
  });
  return out.Item as T | undefined;
}

const readMedia = (deps: Store, mediaId: string) =>
  readItem<MediaRecord>(deps, METADATA_KEYS.media(mediaId));

export interface ProfileUpdate {
  readonly handle?: string;
  readonly display_name?: string;
  readonly bio?: string;
  /** null removes the avatar. */
  readonly avatar_media_id?: string | null;
}

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

/** The avatar types as expression values (:avatarType0...), for the attach condition. */
const AVATAR_TYPE_VALUES: Readonly<Record<string, string>> = Object.fromEntries(
  LIMITS.avatarMediaTypes.map((type, i) => [`:avatarType${i}`, type]),
);

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The items of one update, each tagged with what its failed condition means. */
interface PlannedItem {
  readonly item: TransactItem;
  readonly onConditionFailed: 'handle_taken' | 'avatar' | 'retry';
}

function plan(
  deps: Deps,
  userId: string,
  current: ClaimedProfile,
  update: ProfileUpdate,
): PlannedItem[] {
  const table = deps.tables.metadata;
  const now = nowMs(deps);
  const nowIso = new Date(now).toISOString();
  const items: PlannedItem[] = [];
  const sets = ['profile_updated_at = :now'];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ':now': nowIso, ':seenHandle': current.handle };
  let condition = 'handle = :seenHandle';

  if (update.handle !== undefined && update.handle !== current.handle) {
    items.push({
      item: {
        Put: {
          TableName: table,
          Item: { ...METADATA_KEYS.handle(update.handle), user_id: userId, claimed_at: nowIso },
          // Our own claim may be re-cased (Alice -> alice).
          ConditionExpression: 'attribute_not_exists(pk) OR user_id = :user',
          ExpressionAttributeValues: { ':user': userId },
        },
      },
      onConditionFailed: 'handle_taken',
    });
    if (update.handle.toLowerCase() !== current.handle.toLowerCase()) {
      items.push({
        item: {
          Delete: {
            TableName: table,
            Key: METADATA_KEYS.handle(current.handle),
            ConditionExpression: 'user_id = :user',
            ExpressionAttributeValues: { ':user': userId },
          },
        },
        onConditionFailed: 'retry',
      });
    }
  }
  if (update.handle !== undefined) {
    sets.push('handle = :handle', 'handle_generated = :false');
    values[':handle'] = update.handle;
    values[':false'] = false;
  }
  if (update.display_name !== undefined) {
    sets.push('display_name = :displayName');
    values[':displayName'] = update.display_name;
  }
  if (update.bio !== undefined) {
    sets.push('bio = :bio');
    values[':bio'] = update.bio;
  }

  const oldAvatar = current.avatar_media_id;
  const newAvatar = update.avatar_media_id;
  if (newAvatar !== undefined && newAvatar !== (oldAvatar ?? null)) {
    if (oldAvatar === undefined) {
      condition += ' AND attribute_not_exists(avatar_media_id)';
    } else {
      condition += ' AND avatar_media_id = :seenAvatar';
      values[':seenAvatar'] = oldAvatar;
      // Detached like a deleted tweet's media: the sweeper removes it and its variants.
      items.push({
        item: {
          Update: {
            TableName: table,
            Key: METADATA_KEYS.media(oldAvatar),
            UpdateExpression:
              'SET detached_at = :now, updated_at = :now, gsi2pk = :unattached, ' +
              'gsi2sk = created_at, expires_at = :expires REMOVE avatar_of',
            ConditionExpression: 'avatar_of = :user',
            ExpressionAttributeValues: {
              ':now': nowIso,
              ':unattached': METADATA_KEYS.unattachedIndex.pk,
              ':expires': Math.floor(now / 1000) + LIMITS.unattachedMediaTtlSeconds,
              ':user': userId,
            },
          },
        },
        onConditionFailed: 'retry',
      });
    }
    if (newAvatar === null) {
      removes.push('avatar_media_id');
    } else {
      sets.push('avatar_media_id = :avatar');
      values[':avatar'] = newAvatar;
      // Attached like a tweet's media: out of the unattached index, no expiry.
      items.push({
        item: {
          Update: {
            TableName: table,
            Key: METADATA_KEYS.media(newAvatar),
            UpdateExpression:
              'SET avatar_of = :user, updated_at = :now REMOVE expires_at, gsi2pk, gsi2sk',
            ConditionExpression:
              'owner_id = :user AND attribute_not_exists(tweet_id) AND ' +
              'attribute_not_exists(detached_at) AND attribute_not_exists(avatar_of) AND ' +
              `#status <> :failed AND content_type IN (${Object.keys(AVATAR_TYPE_VALUES).join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':user': userId,
              ':now': nowIso,
              ':failed': 'failed',
              ...AVATAR_TYPE_VALUES,
            },
          },
        },
        onConditionFailed: 'avatar',
      });
    }
  }

  items.push({
    item: {
      Update: {
        TableName: table,
        Key: METADATA_KEYS.profile(userId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
      },
    },
    onConditionFailed: 'retry',
  });
  return items;
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
    const planned = plan(deps, userId, current, update);
    try {
      await deps.dynamo.transactWrite({ TransactItems: planned.map((p) => p.item) });
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

/** An avatar is its media object with only the square variants. */
function renderAvatar(record: MediaRecord, cdnBaseUrl: string): MediaObject {
  const media = renderMedia(record, cdnBaseUrl);
  return { ...media, variants: media.variants.filter((v) => v.name === AVATAR_VARIANT) };
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
  const claim = await readItem<{ user_id?: unknown }>(deps, METADATA_KEYS.handle(handle));
  const userId = claim?.user_id;
  if (typeof userId !== 'string') throw userNotFound();
  const edge = METADATA_KEYS.follows(callerId, userId);
  const items = await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    [METADATA_KEYS.profile(userId), edge],
    { consistent: true },
  );
  const profile = items.find((item) => item.sk === 'PROFILE') as ProfileRecord | undefined;
  // The claim and the profile change in one transaction; a profile naming another handle was
  // changed after the claim was read.
  if (!hasHandle(profile) || profile.handle.toLowerCase() !== handle.toLowerCase()) {
    throw userNotFound();
  }
  const [rendered] = await renderProfiles(deps, [profile]);
  return { ...rendered!, following: items.some((item) => item.sk === edge.sk) };
}

/** A tweet's author as tweets show them (`author` on the tweet object). */
export interface AuthorObject {
  readonly handle: string;
  readonly display_name: string;
  /** The avatar's square JPEG on the CDN once ready, else null. */
  readonly avatar_url: string | null;
}

export interface Author {
  readonly object: AuthorObject;
  /** The avatar is still pending or processing: tweets showing it are cached briefly. */
  readonly avatarChanging: boolean;
}

/**
 * The authors of tweets, by user id: users who have a profile (from their first call); others are
 * absent. One BatchGet of profiles, one of their avatars.
 */
export async function loadAuthors(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'cdnBaseUrl'>,
  userIds: readonly string[],
): Promise<Map<string, Author>> {
  const unique = [...new Set(userIds)];
  const authors = new Map<string, Author>();
  if (unique.length === 0) return authors;
  const profiles = (await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    unique.map((id) => METADATA_KEYS.profile(id)),
    { consistent: true, projection: 'user_id, handle, display_name, avatar_media_id' },
  )) as unknown as ProfileRecord[];
  const claimed = profiles.filter(hasHandle);
  const avatars = await loadMedia(
    deps,
    claimed.flatMap((p) => (p.avatar_media_id !== undefined ? [p.avatar_media_id] : [])),
  );
  for (const profile of claimed) {
    const avatar =
      profile.avatar_media_id !== undefined ? avatars.get(profile.avatar_media_id) : undefined;
    const shown = avatar === undefined ? undefined : renderAvatar(avatar, deps.cdnBaseUrl);
    const jpeg = shown?.variants.find((v) => v.content_type === 'image/jpeg');
    authors.set(profile.user_id, {
      object: {
        handle: profile.handle,
        display_name: profile.display_name ?? '',
        avatar_url: jpeg?.url ?? null,
      },
      // As shown: a ready avatar awaiting its publish is still processing, so a tweet read in
      // that moment is cached briefly, not for an hour without the avatar.
      avatarChanging: shown !== undefined && !isFinalStatus(shown.status),
    });
  }
  return authors;
}

/** Tweets whose cached author a profile change drops at once; older ones age out (1 h). */
export const AUTHOR_REFRESH_TWEETS = 200;

/**
 * After a profile change: drops the cached JSON of the user's newest tweets, so they show the new
 * handle, name and avatar on their next read. Best effort, like every cache write.
 */
async function refreshAuthorTweets(deps: Deps, userId: string): Promise<void> {
  const newest = await newestTweetIds(deps, userId, AUTHOR_REFRESH_TWEETS);
  if (newest.length === 0) return;
  await tryPipeline(deps.redis, 'refresh author tweets', (pipeline) => {
    for (const tweetId of newest) pipeline.del(cacheKeys.tweet(tweetId));
  });
}
