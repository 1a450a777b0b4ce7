/**
 * The users store: every DynamoDB expression of a user's PROFILE item (handle, display name, bio,
 * avatar, and the follow counters the follows code keeps on it) and of the HANDLE#{lower-case
 * handle} items that hold handles. A handle's item is written with attribute_not_exists in the
 * same transaction as the profile that names it, and a released handle's item is deleted in it:
 * two users can never hold one handle, whatever the concurrency.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../../app/model';
import { logger } from '../../platform/logger';
import { nowMs, type Deps, type Tables } from '../ports';
import { batchGetAll, isConditionalCheckFailed } from '../../platform/dynamo';
import { isFinalStatus, renderMedia, type MediaObject } from '../media/render';
import { attachAvatarItem, detachAvatarItem, loadMedia, type MediaRecord } from '../media/store';
import { followEdgeKey } from '../follows/store-keys';

type Store = Pick<Deps, 'dynamo' | 'tables'>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The profile item's fields the profile modules read (the follow counters live on it too). */
export interface ProfileRecord {
  readonly user_id: string;
  readonly handle?: string;
  /** True until the user chooses a handle themselves. */
  readonly handle_generated?: boolean;
  readonly display_name?: string;
  readonly bio?: string;
  readonly avatar_media_id?: string;
  readonly follower_count?: number;
  readonly following_count?: number;
}

export type ClaimedProfile = ProfileRecord & { readonly handle: string };

export const hasHandle = (profile: ProfileRecord | undefined): profile is ClaimedProfile =>
  typeof profile?.handle === 'string';

/** The profile item, strongly consistent. */
export async function readProfile(deps: Store, userId: string): Promise<ProfileRecord | undefined> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.profile(userId),
    ConsistentRead: true,
  });
  return out.Item as ProfileRecord | undefined;
}

/** Whether the user's profile has a handle (they have called the API). One attribute read. */
export async function profileHasHandle(deps: Store, userId: string): Promise<boolean> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.profile(userId),
    ProjectionExpression: 'handle',
    ConsistentRead: true,
  });
  return typeof out.Item?.handle === 'string';
}

/**
 * Creates a user's profile with a generated handle and claims the handle, in one transaction:
 * cancelled when the handle is someone's or the profile has a handle already (a concurrent first
 * call).
 */
export async function createProfile(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'now'>,
  userId: string,
  handle: string,
): Promise<void> {
  const now = new Date(nowMs(deps)).toISOString();
  await deps.dynamo.transactWrite({
    TransactItems: [
      {
        Put: {
          TableName: deps.tables.metadata,
          Item: { ...METADATA_KEYS.handle(handle), user_id: userId, claimed_at: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: deps.tables.metadata,
          Key: METADATA_KEYS.profile(userId),
          UpdateExpression:
            'SET user_id = :user, handle = :handle, handle_generated = :true, ' +
            'display_name = :empty, bio = :empty, profile_created_at = :now',
          ConditionExpression: 'attribute_not_exists(handle)',
          ExpressionAttributeValues: {
            ':user': userId,
            ':handle': handle,
            ':true': true,
            ':empty': '',
            ':now': now,
          },
        },
      },
    ],
  });
}

/** Who holds a handle (any case), strongly consistent; undefined when nobody. */
export async function readHandleOwner(deps: Store, handle: string): Promise<string | undefined> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.handle(handle),
    ConsistentRead: true,
  });
  const userId = (out.Item as { user_id?: unknown } | undefined)?.user_id;
  return typeof userId === 'string' ? userId : undefined;
}

/**
 * A user's profile and whether the caller follows them, in one strongly consistent BatchGet. The
 * follow edge is the follows' item, read here to save the round trip.
 */
export async function readProfileSeenBy(
  deps: Store,
  userId: string,
  callerId: string,
): Promise<{ profile: ProfileRecord | undefined; following: boolean }> {
  const edge = followEdgeKey(callerId, userId);
  const items = await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    [METADATA_KEYS.profile(userId), edge],
    { consistent: true },
  );
  return {
    profile: items.find((item) => item.sk === 'PROFILE') as ProfileRecord | undefined,
    following: items.some((item) => item.sk === edge.sk),
  };
}

/** The profiles of tweets' authors (what tweets show of them), in one strongly consistent BatchGet. */
export async function readAuthorProfiles(
  deps: Store,
  userIds: readonly string[],
): Promise<ProfileRecord[]> {
  return (await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    userIds.map((id) => METADATA_KEYS.profile(id)),
    { consistent: true, projection: 'user_id, handle, display_name, avatar_media_id' },
  )) as unknown as ProfileRecord[];
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
  const claimed = (await readAuthorProfiles(deps, unique)).filter(hasHandle);
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

/** The transcoder's square crop (lambdas/transcoder/settings.ts IMAGE_VARIANTS, fit: cover). */
export const AVATAR_VARIANT = 'thumb';

/** An avatar is its media object with only the square variants. */
export function renderAvatar(record: MediaRecord, cdnBaseUrl: string): MediaObject {
  const media = renderMedia(record, cdnBaseUrl);
  return { ...media, variants: media.variants.filter((v) => v.name === AVATAR_VARIANT) };
}

/** A transaction item recording a user's newest tweet on their profile (rebuild-authors.ts). */
export function lastTweetItem(tables: Tables, userId: string, tweetId: string): TransactItem {
  return {
    Update: {
      TableName: tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      UpdateExpression: 'SET user_id = :user, last_tweet_id = :tweet',
      ExpressionAttributeValues: { ':user': userId, ':tweet': tweetId },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Profile updates
// ---------------------------------------------------------------------------------------------

export interface ProfileUpdate {
  readonly handle?: string;
  readonly display_name?: string;
  readonly bio?: string;
  /** null removes the avatar. */
  readonly avatar_media_id?: string | null;
}

/** The items of one update, each tagged with what its failed condition means. */
export interface PlannedItem {
  readonly item: TransactItem;
  readonly onConditionFailed: 'handle_taken' | 'avatar' | 'retry';
}

/**
 * The transaction of one profile update, conditional on the profile as read (`current`): the new
 * handle claimed and the old one released, the new avatar attached and the old one detached.
 */
export function planProfileUpdate(
  deps: Pick<Deps, 'tables' | 'now'>,
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
      items.push({
        item: detachAvatarItem(deps, { mediaId: oldAvatar, userId }, now),
        onConditionFailed: 'retry',
      });
    }
    if (newAvatar === null) {
      removes.push('avatar_media_id');
    } else {
      sets.push('avatar_media_id = :avatar');
      values[':avatar'] = newAvatar;
      items.push({
        item: attachAvatarItem(deps, { mediaId: newAvatar, userId }, now),
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

/** Writes a planned profile update (TransactionCanceledException: see cancellationReasons). */
export async function writeProfileUpdate(
  deps: Store,
  planned: readonly PlannedItem[],
): Promise<void> {
  await deps.dynamo.transactWrite({ TransactItems: planned.map((p) => p.item) });
}

// ---------------------------------------------------------------------------------------------
// The follow graph's fields of the profile (counters, stale-timeline mark): core/follows writes
// them in its edge transactions with these items, and reads them for follow-graph loads.
// ---------------------------------------------------------------------------------------------

type GraphStore = Pick<Deps, 'dynamo' | 'tables'>;

/** follower_count of one user (0 when they have no profile yet), strongly consistent. */
export async function followerCount(deps: GraphStore, userId: string): Promise<number> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.profile(userId),
    ProjectionExpression: 'follower_count',
    ConsistentRead: true,
  });
  const count: unknown = out.Item?.follower_count;
  return typeof count === 'number' ? count : 0;
}

/** What a follow-graph load needs of a user's profile. */
export interface GraphProfile {
  readonly userId: string;
  readonly followerCount?: number;
  /** The stale-timeline mark (`timeline_stale_at`), when set. */
  readonly timelineStaleAt?: string;
  /** The user's newest tweet id (`last_tweet_id`), once they have tweeted. */
  readonly lastTweetId?: string;
}

const USER_PK_PREFIX = 'USER#';

/** The profiles of several users in one strongly consistent BatchGet (missing ones left out). */
export async function readGraphProfiles(
  deps: GraphStore,
  userIds: readonly string[],
): Promise<GraphProfile[]> {
  const items = await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    userIds.map((id) => METADATA_KEYS.profile(id)),
    { projection: 'pk, follower_count, timeline_stale_at, last_tweet_id', consistent: true },
  );
  return items.map((item) => ({
    userId: String(item.pk).slice(USER_PK_PREFIX.length),
    ...(typeof item.follower_count === 'number' ? { followerCount: item.follower_count } : {}),
    ...(typeof item.timeline_stale_at === 'string'
      ? { timelineStaleAt: item.timeline_stale_at }
      : {}),
    ...(typeof item.last_tweet_id === 'string' ? { lastTweetId: item.last_tweet_id } : {}),
  }));
}

/**
 * Updates the stale-timeline mark on a user's profile. Never throws: a failure leaves the mark as
 * it was (a conditional check failing is expected and not logged).
 */
async function updateStaleMark(
  deps: GraphStore,
  userId: string,
  update: Pick<
    UpdateCommandInput,
    'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
  >,
): Promise<void> {
  try {
    await deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      ...update,
    });
  } catch (error) {
    if (isConditionalCheckFailed(error)) return;
    logger.error('could not update the stale-timeline mark', {
      userId,
      update: update.UpdateExpression,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** A unique stale-timeline mark, so clearing one never clears a later one made the same ms. */
export const newStaleMark = (deps: Pick<Deps, 'now'>) =>
  `${new Date(nowMs(deps)).toISOString()}#${randomBytes(4).toString('hex')}`;

/** Sets a new stale-timeline mark on a user's profile (never throws; a failure is logged). */
export const markTimelineStale = (deps: GraphStore & Pick<Deps, 'now'>, userId: string) =>
  updateStaleMark(deps, userId, {
    UpdateExpression: 'SET user_id = :user, timeline_stale_at = :mark',
    ExpressionAttributeValues: { ':user': userId, ':mark': newStaleMark(deps) },
  });

/**
 * Clears the stale-timeline mark once the timeline has been rebuilt from a follow graph read that
 * saw it; only if it still holds the value read, so a newer failure's mark survives (and the next
 * graph read rebuilds again). Failing to clear it costs only another rebuild.
 */
export const clearTimelineStale = (deps: GraphStore, userId: string, staleAt: string) =>
  updateStaleMark(deps, userId, {
    UpdateExpression: 'REMOVE timeline_stale_at',
    ConditionExpression: 'timeline_stale_at = :seen',
    ExpressionAttributeValues: { ':seen': staleAt },
  });

/**
 * The followee's side of a follow or unfollow on their PROFILE item (written in core/follows' edge
 * transaction): follower_count by `delta`.
 */
export function followerCountItem(deps: GraphStore, userId: string, delta: number) {
  return {
    Update: {
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      UpdateExpression: 'SET user_id = :user ADD #field :delta',
      ExpressionAttributeNames: { '#field': 'follower_count' },
      ExpressionAttributeValues: { ':user': userId, ':delta': delta },
    },
  };
}

/**
 * The caller's side of a follow or unfollow on their PROFILE item (written in core/follows' edge transaction): its
 * following_count, and a stale-timeline mark set in the same transaction. The mark is cleared once
 * the Redis work is done; if the function dies or loses DynamoDB's reply in between, the mark
 * stands, and the next follow-graph read rebuilds the timeline, so the edge and the timeline can
 * never disagree for longer than the graph's cache.
 */
export function followingCountItem(deps: GraphStore, userId: string, delta: number, mark: string) {
  return {
    Update: {
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      UpdateExpression: 'SET user_id = :user, timeline_stale_at = :mark ADD following_count :delta',
      ExpressionAttributeValues: { ':user': userId, ':delta': delta, ':mark': mark },
    },
  };
}

/** The followee's counter update, refused (a failed condition) unless their user record exists. */
export function followeeExists(update: ReturnType<typeof followerCountItem>) {
  return { Update: { ...update.Update, ConditionExpression: 'attribute_exists(handle)' } };
}

/**
 * The caller's update of a follow, refused (a failed condition) once they follow the most allowed.
 * Checked in the transaction that adds the edge, so concurrent follows cannot pass the cap.
 */
export function followeeCap(update: ReturnType<typeof followingCountItem>, max: number) {
  return {
    Update: {
      ...update.Update,
      ConditionExpression: 'attribute_not_exists(following_count) OR following_count < :max',
      ExpressionAttributeValues: {
        ...update.Update.ExpressionAttributeValues,
        ':max': max,
      },
    },
  };
}
