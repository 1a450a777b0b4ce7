/**
 * Follow and unfollow. Both edge directions and the profile counters change in one transaction
 * (store.ts); the caches are in store-cache.ts. A user's follow graph for timeline reads and an
 * author's followers for the fanout are read through the store (loadFollowGraph, fanoutFollowers).
 */
import { LIMITS } from '../../../app/model';
import { invalidRequest, unprocessable } from '../errors';
import { nowMs, type Deps } from '../ports';
import { isUserId } from '../ids';
import { addToTimeline, queueRemoveAuthor, timelineExists } from '../timelines/store';
import { userNotFound } from '../users/users';
import { newestTweetIds } from '../tweets/store-sources';
import {
  clearTimelineStale,
  deleteFollow,
  followerCount,
  markTimelineStale,
  newStaleMark,
  writeFollow,
} from './store';
import { recordFollowInCache, recordUnfollowInCache } from './store-cache';

/** Whether an author's tweets are merged at read time instead of fanned out. */
export async function isCelebrity(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'fanoutMaxFollowers'>,
  userId: string,
): Promise<boolean> {
  return (await followerCount(deps, userId)) > deps.fanoutMaxFollowers;
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
