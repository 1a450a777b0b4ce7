/**
 * The follow graph's use cases: follow, unfollow, a user's follow graph for timeline reads, and an
 * author's followers for the fanout. Both edge directions and the profile counters change in one
 * transaction (store.ts); the caches are in store-cache.ts.
 */
import { LIMITS } from '../../../app/model';
import { invalidRequest, unprocessable } from '../errors';
import { nowMs, type Deps } from '../ports';
import { isUserId } from '../ids';
import { addToTimeline, queueRemoveAuthor, timelineExists } from '../timelines/store';
import { userNotFound } from '../users/users';
import { newestTweetIds } from '../timelines/sources';
import {
  clearTimelineStale,
  deleteFollow,
  followerCount,
  followers,
  followees,
  markTimelineStale,
  newStaleMark,
  readGraphProfiles,
  writeFollow,
} from './store';
import {
  cachedFollowers,
  fillFollowGraph,
  finishFollowerSetBuild,
  placeFollowGraphPlaceholder,
  recordFollowInCache,
  recordUnfollowInCache,
  startFollowerSetBuild,
  type CachedFollowGraph,
} from './store-cache';

/** Above this many followees, timeline reads do not filter entries by author (too big to cache). */
const FOLLOWEE_FILTER_MAX = 2000;

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

function checkFollowee(userId: string, followee: string): void {
  if (!isUserId(followee)) throw invalidRequest('user_id is not a valid user id');
  if (followee === userId) throw invalidRequest('You cannot follow yourself');
}

/**
 * After the Redis work of a follow or unfollow: clears the transaction's mark if the work was done,
 * or marks the timeline stale if it failed (the mark is there already if the transaction wrote).
 *
 * The mark records durably that a follow or unfollow's Redis work failed, so the caller's timeline
 * (which may lack a backfill, or hold an unfollowed author's entries) is rebuilt when their follow
 * graph is next read from DynamoDB (within FOLLOW_GRAPH_TTL_SECONDS). Redis itself cannot hold
 * this: it just failed. If this write fails too, the follow still stands; the gap is logged.
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

const maxFollowees = (deps: Deps) => deps.maxFollowees ?? LIMITS.maxFolloweesDefault;

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
  const mark = newStaleMark(deps);
  const written = await writeFollow(deps, userId, followee, {
    createdAt,
    staleMark: mark,
    maxFollowees: maxFollowees(deps),
  });
  if (written === 'followee_missing') throw userNotFound();
  if (written === 'at_most_followees') {
    throw unprocessable(
      'following_limit_reached',
      `You follow ${maxFollowees(deps)} accounts already, the most allowed; unfollow some first`,
    );
  }
  // Before the backfill reads the followee's tweets, so every later tweet is fanned out to us.
  // If this fails, the fanout notices the follower set disagrees with follower_count.
  const cachesUpdated = await recordFollowInCache(deps, userId, followee);
  // Also when the edge already existed: a retried PUT repairs a backfill that Redis dropped.
  // A timeline being rebuilt exists too: the backfill lands in it, whatever graph it read.
  const exists = await timelineExists(deps, userId);
  let backfilled = true;
  if (exists === true && !(await isCelebrity(deps, followee))) {
    const newest = await newestTweetIds(deps, followee, deps.timelineMaxEntries);
    backfilled = await addToTimeline(deps, userId, newest, deps.timelineMaxEntries);
  }
  const redisDone = cachesUpdated && exists !== undefined && backfilled;
  await settleStaleMark(deps, userId, redisDone, written === 'written' ? mark : undefined);
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
  const written = await deleteFollow(deps, userId, followee, mark);
  // Also when the edge was already gone: a retried DELETE repairs a cleanup Redis dropped.
  // A timeline being rebuilt is dropped, for the same reason as the follower set.
  const cleaned = await recordUnfollowInCache(deps, userId, followee, (batch) =>
    queueRemoveAuthor(batch, userId, followee),
  );
  await settleStaleMark(deps, userId, cleaned, written ? mark : undefined);
}
