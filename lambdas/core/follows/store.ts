/**
 * The follow graph in DynamoDB: a follow is two edge items, `FOLLOWS#{followee}` under the
 * follower and `FOLLOWER#{follower}` under the followee, written in one transaction with both
 * users' counters, so "followers of X" (fanout) and "followees of X" (timeline rebuilds) never
 * disagree. The counters and the stale-timeline mark live on the PROFILE item: the users' store
 * builds those items (followerCountItem, followingCountItem) and this store puts them in its
 * transactions, for atomicity. Redis: store-cache.ts. The reads other aggregates make of the graph
 * (loadFollowGraph, fanoutFollowers) are at the end: they combine the cache and the table.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../../app/model';
import type { Deps } from '../ports';
import {
  cancellationReasons,
  conflicted,
  done,
  queryAll,
  retryTransaction,
} from '../../platform/dynamo';
import {
  cachedFollowers,
  fillFollowGraph,
  finishFollowerSetBuild,
  placeFollowGraphPlaceholder,
  startFollowerSetBuild,
  type CachedFollowGraph,
} from './store-cache';
import {
  followeeCap,
  followeeExists,
  followerCount,
  followerCountItem,
  followingCountItem,
  readGraphProfiles,
} from '../users/store';

// The graph's fields on the profile item (users' store), as the graph's users know them.
export { followerCount };
export { clearTimelineStale, markTimelineStale, newStaleMark } from '../users/store';

type Source = Pick<Deps, 'dynamo' | 'tables'>;

/** The other ends of a user's edges of one direction (strongly consistent). */
async function edgeTargets(deps: Source, userId: string, prefix: string): Promise<string[]> {
  const items = await queryAll(deps.dynamo, {
    TableName: deps.tables.metadata,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': METADATA_KEYS.userPartition(userId), ':prefix': prefix },
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

/** A failed condition's refusal, by the indexes of the transaction items whose checks failed. */
type Refusal<R> = (failed: readonly number[]) => R;

/**
 * Runs a follow-graph transaction: true when written, false when a failed edge condition (item 0)
 * says it was already done (nothing written). Any other failed condition is a refusal (when
 * `refusal` is given); without one, it counts as a conflict and is retried.
 */
async function graphTransaction<R>(
  deps: Source,
  input: TransactWriteCommandInput,
  refusal?: Refusal<R>,
): Promise<boolean | R> {
  return retryTransaction<boolean | R>(async () => {
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
      if (refusal && failed.length > 0) return done(refusal(failed));
      return conflicted(error);
    }
  });
}

/** Position of the followee's update in the follow transaction. */
const FOLLOWEE_ITEM = 3;

/** What writing a follow did. */
export type FollowWrite = 'written' | 'existed' | 'followee_missing' | 'at_most_followees';

/**
 * Writes a follow edge, both counters and the caller's stale-timeline mark in one transaction.
 * Only a user who exists (has called the API) can be followed, and only up to `maxFollowees`.
 */
export async function writeFollow(
  deps: Source,
  userId: string,
  followee: string,
  options: {
    readonly createdAt: string;
    readonly staleMark: string;
    readonly maxFollowees: number;
  },
): Promise<FollowWrite> {
  const edge = { follower_id: userId, followee_id: followee, created_at: options.createdAt };
  const outcome = await graphTransaction(
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
        followeeCap(followingCountItem(deps, userId, 1, options.staleMark), options.maxFollowees),
        // Only a user who exists (has called the API) can be followed.
        followeeExists(followerCountItem(deps, followee, 1)),
      ],
    },
    (failed): FollowWrite =>
      failed.includes(FOLLOWEE_ITEM) ? 'followee_missing' : 'at_most_followees',
  );
  return outcome === true ? 'written' : outcome === false ? 'existed' : outcome;
}

/**
 * Deletes a follow edge, both counters and sets the caller's stale-timeline mark in one
 * transaction. False when there was no edge (nothing written).
 */
export async function deleteFollow(
  deps: Source,
  userId: string,
  followee: string,
  staleMark: string,
): Promise<boolean> {
  const outcome = await graphTransaction<never>(deps, {
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
      followingCountItem(deps, userId, -1, staleMark),
      followerCountItem(deps, followee, -1),
    ],
  });
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Reads for other aggregates: a user's follow graph (timeline reads), an author's followers (fanout)
// ---------------------------------------------------------------------------------------------

/** Above this many followees, timeline reads do not filter entries by author (too big to cache). */
const FOLLOWEE_FILTER_MAX = 2000;

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
  const placeholder = await placeFollowGraphPlaceholder(deps, userId);
  const following = await followees(deps, userId);
  const profiles = await readGraphProfiles(deps, [userId, ...following]);
  const lastTweetIds = new Map<string, string>();
  for (const profile of profiles) {
    if (profile.lastTweetId !== undefined) lastTweetIds.set(profile.userId, profile.lastTweetId);
  }
  const staleAt = profiles.find((profile) => profile.userId === userId)?.timelineStaleAt;
  const celebrities = profiles
    .filter(
      (profile) =>
        profile.userId !== userId &&
        profile.followerCount !== undefined &&
        profile.followerCount > deps.fanoutMaxFollowers,
    )
    .map((profile) => profile.userId)
    .sort();
  const cached: CachedFollowGraph = {
    followees: following.length <= FOLLOWEE_FILTER_MAX ? following : null,
    celebrities,
  };
  if (placeholder !== undefined) await fillFollowGraph(deps, userId, placeholder, cached);
  return {
    followees: following,
    celebrities,
    lastTweetIds,
    ...(staleAt !== undefined ? { timelineStaleAt: staleAt } : {}),
  };
}

/**
 * Followers to fan an author's tweet out to, or 'celebrity' when the author has too many (their
 * tweets are merged at read time). Throws if Redis fails, so the fanout is retried.
 *
 * A Redis set rebuilt from DynamoDB on a miss, so a fanout to 10,000 followers is one SMEMBERS, not
 * pages of DynamoDB reads. A follow or unfollow whose Redis write was lost to a blip (while the set
 * survived) would leave it wrong, so every use checks its size against the author's follower_count
 * in DynamoDB (one strongly consistent GetItem; the follow transaction changes the edges and the
 * count together) and rebuilds it on a mismatch. Residual: a lost add and a lost drop of the same
 * author's set cancel out in the count; the fixed (never refreshed) 15-minute lifetime bounds that.
 */
export async function fanoutFollowers(deps: Deps, author: string): Promise<string[] | 'celebrity'> {
  const [cached, count] = await Promise.all([
    cachedFollowers(deps, author),
    followerCount(deps, author),
  ]);
  if (count > deps.fanoutMaxFollowers) return 'celebrity';
  if (cached !== undefined && cached.length === count) return cached;
  // Missing, half-built, or disagreeing with DynamoDB: rebuild. A wrong set is dropped first (its
  // stale members must go), which also voids any rebuild under way.
  const marker = await startFollowerSetBuild(deps, author, cached !== undefined);
  const list = await followers(deps, author);
  await finishFollowerSetBuild(deps, author, marker, list);
  return list;
}
