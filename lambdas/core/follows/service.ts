/**
 * The follow graph: both edge directions and the profile counters change in one transaction, so
 * "followers of X" (fanout) and "followees of X" (timeline rebuilds) never disagree.
 */
import { randomBytes } from 'node:crypto';
import type { TransactWriteCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../../app/model';
import { DomainError, invalidRequest, unprocessable } from '../errors';
import { logger } from '../../platform/logger';
import { cacheKeys } from '../cache-keys';
import { TIMELINE_SENTINEL, tryCommand, tryPipeline } from '../../platform/cache';
import { nowMs, type Deps } from '../ports';
import {
  batchGetAll,
  cancellationReasons,
  isConditionalCheckFailed,
  queryAll,
  conflicted,
  done,
  retryTransaction,
} from '../../platform/dynamo';
import { isUserId } from '../ids';
import { addToTimeline } from '../timelines/store';
import { userNotFound } from '../users/users';
import { newestTweetIds } from '../timelines/sources';

/** How long a user's follow graph (followees, celebrities among them) is cached. */
export const FOLLOW_GRAPH_TTL_SECONDS = 60;
/** Above this many followees, timeline reads do not filter entries by author (too big to cache). */
const FOLLOWEE_FILTER_MAX = 2000;
/** What the graph key holds while a load reads DynamoDB; never parses as a graph. */
const GRAPH_LOADING_PREFIX = 'loading:';

type Source = Pick<Deps, 'dynamo' | 'tables'>;

/** The other ends of a user's edges of one direction (strongly consistent). */
async function edgeTargets(deps: Source, userId: string, prefix: string): Promise<string[]> {
  const items = await queryAll(deps.dynamo, {
    TableName: deps.tables.metadata,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': METADATA_KEYS.profile(userId).pk, ':prefix': prefix },
    ProjectionExpression: 'sk',
    ConsistentRead: true,
  });
  return items.map((item) => String(item.sk).slice(prefix.length));
}

/** Users `userId` follows. */
export const followees = (deps: Source, userId: string) =>
  edgeTargets(deps, userId, METADATA_KEYS.followsPrefix);

/** Everyone who follows `userId`, read from DynamoDB (the fanout caches it in Redis). */
export const followers = (deps: Source, userId: string) =>
  edgeTargets(deps, userId, METADATA_KEYS.followerPrefix);

/** follower_count of one user (0 when they have no profile yet), strongly consistent. */
export async function followerCount(
  deps: Pick<Deps, 'dynamo' | 'tables'>,
  userId: string,
): Promise<number> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.profile(userId),
    ProjectionExpression: 'follower_count',
    ConsistentRead: true,
  });
  const count = out.Item?.follower_count;
  return typeof count === 'number' ? count : 0;
}

/** Whether an author's tweets are merged at read time instead of fanned out. */
export async function isCelebrity(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'fanoutMaxFollowers'>,
  userId: string,
): Promise<boolean> {
  return (await followerCount(deps, userId)) > deps.fanoutMaxFollowers;
}

export interface FollowGraph {
  readonly followees: string[];
  /** The followees with too many followers to be fanned out; merged when timelines are read. */
  readonly celebrities: string[];
  /** Newest tweet id of the user and each followee who has tweeted (rebuild-authors.ts). */
  readonly lastTweetIds: ReadonlyMap<string, string>;
  /**
   * Set when a follow or unfollow by this user could not update their cached home timeline
   * (`timeline_stale_at` on their profile): the timeline must be rebuilt from DynamoDB, then the
   * mark cleared with clearTimelineStale.
   */
  readonly timelineStaleAt?: string;
}

/** The cached form: followees is null when the user follows too many to filter entries by. */
export interface CachedFollowGraph {
  readonly followees: string[] | null;
  readonly celebrities: string[];
}

/**
 * Reads who `userId` follows and which of them are celebrities, and caches it briefly. The user's
 * own profile is read in the same BatchGet, for its stale-timeline mark.
 *
 * The cache is filled only if no follow or unfollow invalidated it while DynamoDB was read: a
 * placeholder goes in first, and the fill replaces only that placeholder (a follow's DEL, a newer
 * load or a Redis restart removes it). Without this, a load that read the graph just before a
 * follow committed could cache the old graph after the follow dropped it, hiding the followee (or
 * showing an unfollowed author) for the cache's whole lifetime.
 */
export async function loadFollowGraph(deps: Deps, userId: string): Promise<FollowGraph> {
  const graphKey = cacheKeys.followGraph(userId);
  const placeholder = GRAPH_LOADING_PREFIX + randomBytes(8).toString('hex');
  const placed = await tryCommand(deps.redis, 'follow graph placeholder', (redis) =>
    redis.set(graphKey, placeholder, 'EX', FOLLOW_GRAPH_TTL_SECONDS),
  );
  const following = await followees(deps, userId);
  const ownPk = METADATA_KEYS.profile(userId).pk;
  const profiles = await batchGetAll(
    deps.dynamo,
    deps.tables.metadata,
    [userId, ...following].map((id) => METADATA_KEYS.profile(id)),
    { projection: 'pk, follower_count, timeline_stale_at, last_tweet_id', consistent: true },
  );
  const lastTweetIds = new Map<string, string>();
  for (const item of profiles) {
    if (typeof item.last_tweet_id === 'string') {
      lastTweetIds.set(String(item.pk).slice('USER#'.length), item.last_tweet_id);
    }
  }
  const staleAt = profiles.find((item) => item.pk === ownPk)?.timeline_stale_at;
  const celebrities = profiles
    .filter(
      (item) =>
        item.pk !== ownPk &&
        typeof item.follower_count === 'number' &&
        item.follower_count > deps.fanoutMaxFollowers,
    )
    .map((item) => String(item.pk).slice('USER#'.length))
    .sort();
  const cached: CachedFollowGraph = {
    followees: following.length <= FOLLOWEE_FILTER_MAX ? following : null,
    celebrities,
  };
  if (placed !== undefined) {
    await tryCommand(deps.redis, 'cache follow graph', (redis) =>
      redis.fillIfPlaceholder(
        graphKey,
        placeholder,
        JSON.stringify(cached),
        FOLLOW_GRAPH_TTL_SECONDS,
      ),
    );
  }
  return {
    followees: following,
    celebrities,
    lastTweetIds,
    ...(typeof staleAt === 'string' ? { timelineStaleAt: staleAt } : {}),
  };
}

/**
 * Updates the stale-timeline mark on a user's profile. Never throws: a failure leaves the mark as
 * it was (a conditional check failing is expected and not logged).
 */
async function updateStaleMark(
  deps: Deps,
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
const newStaleMark = (deps: Deps) =>
  `${new Date(nowMs(deps)).toISOString()}#${randomBytes(4).toString('hex')}`;

/**
 * Records durably that a follow or unfollow's Redis work failed, so the caller's timeline (which
 * may lack a backfill, or hold an unfollowed author's entries) is rebuilt when their follow graph
 * is next read from DynamoDB (within FOLLOW_GRAPH_TTL_SECONDS). Redis itself cannot hold this: it
 * just failed. If this write fails too, the follow still stands; the gap is logged.
 */
const markTimelineStale = (deps: Deps, userId: string) =>
  updateStaleMark(deps, userId, {
    UpdateExpression: 'SET user_id = :user, timeline_stale_at = :mark',
    ExpressionAttributeValues: { ':user': userId, ':mark': newStaleMark(deps) },
  });

/**
 * Clears the stale-timeline mark once the timeline has been rebuilt from a follow graph read that
 * saw it; only if it still holds the value read, so a newer failure's mark survives (and the next
 * graph read rebuilds again). Failing to clear it costs only another rebuild.
 */
export const clearTimelineStale = (deps: Deps, userId: string, staleAt: string) =>
  updateStaleMark(deps, userId, {
    UpdateExpression: 'REMOVE timeline_stale_at',
    ConditionExpression: 'timeline_stale_at = :seen',
    ExpressionAttributeValues: { ':seen': staleAt },
  });

/** Parses a cached follow graph; anything malformed counts as a miss. */
export function parseFollowGraph(raw: string | null | undefined): CachedFollowGraph | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<CachedFollowGraph> | null;
    const { followees, celebrities } = value ?? {};
    const validList = (list: unknown) => Array.isArray(list) && list.every(isUserId);
    if ((followees === null || validList(followees)) && validList(celebrities)) {
      return { followees: followees ?? null, celebrities: celebrities ?? [] };
    }
  } catch {
    // fall through: a miss
  }
  return undefined;
}

function checkFollowee(userId: string, followee: string): void {
  if (!isUserId(followee)) throw invalidRequest('user_id is not a valid user id');
  if (followee === userId) throw invalidRequest('You cannot follow yourself');
}

/**
 * Runs a follow-graph transaction. False when a failed edge condition says it was already done
 * (nothing written). Any other failed condition is a refusal: `refusal` names the error from the
 * indexes of the items whose conditions failed.
 */
async function graphTransaction(
  deps: Deps,
  input: TransactWriteCommandInput,
  refusal?: (failed: readonly number[]) => DomainError,
): Promise<boolean> {
  return retryTransaction(async () => {
    try {
      await deps.dynamo.transactWrite(input);
      return done(true);
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons === undefined) throw error;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return done(false);
      const failed = reasons.flatMap((reason, i) =>
        reason.Code === 'ConditionalCheckFailed' ? [i] : [],
      );
      if (refusal && failed.length > 0) throw refusal(failed);
      return conflicted(error);
    }
  });
}

function counterUpdate(deps: Deps, userId: string, field: string, delta: number) {
  return {
    Update: {
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      UpdateExpression: 'SET user_id = :user ADD #field :delta',
      ExpressionAttributeNames: { '#field': field },
      ExpressionAttributeValues: { ':user': userId, ':delta': delta },
    },
  };
}

/**
 * The caller's side of a follow or unfollow: its following_count, and a stale-timeline mark set in
 * the same transaction. The mark is cleared once the Redis work is done; if the function dies or
 * loses DynamoDB's reply in between, the mark stands, and the next follow-graph read rebuilds the
 * timeline, so the edge and the timeline can never disagree for longer than the graph's cache.
 */
function callerUpdate(deps: Deps, userId: string, delta: number, mark: string) {
  return {
    Update: {
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.profile(userId),
      UpdateExpression: 'SET user_id = :user, timeline_stale_at = :mark ADD following_count :delta',
      ExpressionAttributeValues: { ':user': userId, ':delta': delta, ':mark': mark },
    },
  };
}

/**
 * After the Redis work of a follow or unfollow: clears the transaction's mark if the work was done,
 * or marks the timeline stale if it failed (the mark is there already if the transaction wrote).
 */
async function settleStaleMark(
  deps: Deps,
  userId: string,
  redisDone: boolean,
  writtenMark: string | undefined,
): Promise<void> {
  if (!redisDone) {
    if (writtenMark === undefined) await markTimelineStale(deps, userId);
  } else if (writtenMark !== undefined) {
    await clearTimelineStale(deps, userId, writtenMark);
  }
}

/** The followee's counter update, refused (a failed condition) unless their user record exists. */
function followeeExists(update: ReturnType<typeof counterUpdate>) {
  return { Update: { ...update.Update, ConditionExpression: 'attribute_exists(handle)' } };
}

/** Position of the followee's update in the follow transaction. */
const FOLLOWEE_ITEM = 3;

const maxFollowees = (deps: Deps) => deps.maxFollowees ?? LIMITS.maxFolloweesDefault;

/**
 * The caller's update of a follow, refused (a failed condition) once they follow the most allowed.
 * Checked in the transaction that adds the edge, so concurrent follows cannot pass the cap.
 */
function followeeCap(update: ReturnType<typeof callerUpdate>, max: number) {
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

/**
 * PUT /v1/users/{id}/follow. Idempotent: an existing edge makes it a no-op. A user who never
 * called the API is 404 `user_not_found` (the transaction's condition: nothing is written). A
 * user following the most allowed (deps.maxFollowees) gets 422 `following_limit_reached`. Afterwards the
 * followee's recent tweets are backfilled into the caller's timeline if it exists (a missing one
 * is rebuilt, with this followee, on its next read). Celebrities are merged at read time instead.
 */
export async function followUser(deps: Deps, userId: string, followee: string): Promise<void> {
  checkFollowee(userId, followee);
  const createdAt = new Date(nowMs(deps)).toISOString();
  const edge = { follower_id: userId, followee_id: followee, created_at: createdAt };
  const mark = newStaleMark(deps);
  const written = await graphTransaction(
    deps,
    {
      TransactItems: [
        {
          Put: {
            TableName: deps.tables.metadata,
            Item: { ...METADATA_KEYS.follows(userId, followee), ...edge },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: deps.tables.metadata,
            Item: { ...METADATA_KEYS.follower(followee, userId), ...edge },
          },
        },
        followeeCap(callerUpdate(deps, userId, 1, mark), maxFollowees(deps)),
        // Only a user who exists (has called the API) can be followed.
        followeeExists(counterUpdate(deps, followee, 'follower_count', 1)),
      ],
    },
    (failed) =>
      failed.includes(FOLLOWEE_ITEM)
        ? userNotFound()
        : unprocessable(
            'following_limit_reached',
            `You follow ${maxFollowees(deps)} accounts already, the most allowed; unfollow some first`,
          ),
  );
  // Before the backfill reads the followee's tweets, so every later tweet is fanned out to us.
  // If this fails, the fanout notices the follower set disagrees with follower_count.
  const cachesUpdated = await tryPipeline(deps.redis, 'follow caches', (pipeline) =>
    pipeline.del(cacheKeys.followGraph(userId)).followersAdd(cacheKeys.followers(followee), userId),
  );
  // Also when the edge already existed: a retried PUT repairs a backfill that Redis dropped.
  // A timeline being rebuilt exists too: the backfill lands in it, whatever graph it read.
  const exists = await tryCommand(deps.redis, 'timeline exists', (redis) =>
    redis.exists(cacheKeys.homeTimeline(userId)),
  );
  let backfilled = true;
  if (exists === 1 && !(await isCelebrity(deps, followee))) {
    const newest = await newestTweetIds(deps, followee, deps.timelineMaxEntries);
    backfilled = await addToTimeline(deps.redis, userId, newest, deps.timelineMaxEntries);
  }
  const redisDone = cachesUpdated !== undefined && exists !== undefined && backfilled;
  await settleStaleMark(deps, userId, redisDone, written ? mark : undefined);
}

/**
 * DELETE /v1/users/{id}/follow. Idempotent, also for a user who never called the API: there is
 * no edge to them, so nothing is written and the answer is 204 (no lookup: "not following" is
 * what the caller asked for). The followee's entries leave the caller's timeline at
 * once: tweet ids name their author, so one script removes them without reading DynamoDB (and
 * the timeline stays warm, unlike dropping it, which would cost a full rebuild on the next read).
 */
export async function unfollowUser(deps: Deps, userId: string, followee: string): Promise<void> {
  checkFollowee(userId, followee);
  const mark = newStaleMark(deps);
  const written = await graphTransaction(deps, {
    TransactItems: [
      {
        Delete: {
          TableName: deps.tables.metadata,
          Key: METADATA_KEYS.follows(userId, followee),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        Delete: { TableName: deps.tables.metadata, Key: METADATA_KEYS.follower(followee, userId) },
      },
      callerUpdate(deps, userId, -1, mark),
      counterUpdate(deps, followee, 'follower_count', -1),
    ],
  });
  // Also when the edge was already gone: a retried DELETE repairs a cleanup Redis dropped.
  const cleaned = await tryPipeline(deps.redis, 'unfollow cleanup', (pipeline) =>
    pipeline
      .del(cacheKeys.followGraph(userId))
      // Dropped, not edited: a rebuild racing this unfollow then cannot put the follower back.
      .del(cacheKeys.followers(followee))
      // A timeline being rebuilt is dropped, for the same reason.
      .timelineRemoveAuthor(cacheKeys.homeTimeline(userId), followee, TIMELINE_SENTINEL),
  );
  await settleStaleMark(deps, userId, cleaned !== undefined, written ? mark : undefined);
}
