/**
 * Home timelines in Redis: `tl:{user}` is a sorted set of tweet ids scored by creation time (ms).
 * Equal scores order by member, and tweet ids sort by time, so the set's order is the ids' order.
 *
 * Markers at score -inf tell a built timeline from a missing or half-built one:
 * - `built`: the timeline holds the newest entries (up to deps.timelineMaxEntries);
 * - `building:{token}`: a rebuild is under way; fanout already lands in the key;
 * - `floor:{score}`: the timeline was cut at its depth; older entries are read from DynamoDB.
 * Writers only ever add to timelines that exist, so a partial timeline is never taken for a full
 * one; a read that does not find `built` rebuilds from DynamoDB.
 */
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { CacheClient } from '../../platform/clients';
import { cacheKeys } from '../cache-keys';
import {
  execPipeline,
  TIMELINE_BUILDING_PREFIX,
  TIMELINE_SENTINEL,
  TIMELINE_TTL_SECONDS,
  tryCache,
  tryCommand,
  tryPipeline,
} from '../../platform/cache';
import { tweetTime } from '../ids';

function pairs(tweetIds: readonly string[]): (string | number)[] {
  return tweetIds.flatMap((id) => [tweetTime(id), id]);
}

/**
 * Timelines written per pipeline. Every command must finish within the client's short command
 * timeout, and Redis runs a pipeline's commands one after another, so huge fanouts go in chunks.
 */
const PIPELINE_CHUNK = 500;

export interface FanoutPacing {
  /** Most timelines written per second (CACHE_SIZING); 0: as fast as the cache answers. */
  readonly deliveriesPerSecond: number;
}

/**
 * How a chunk is retried: a throttled or timed-out chunk is sent again after a growing pause
 * (0.1, 0.2, 0.4, 0.8 s, each ±50 %), so a cache at its ECPU ceiling has time to catch up, and only
 * that chunk is repeated; the change fails (and its stream record is retried whole) only after
 * the last attempt. Re-adding an entry is a no-op, so a repeated chunk writes nothing twice.
 */
export const CHUNK_RETRY = { attempts: 5, firstDelayMs: 100 } as const;

async function perTimeline(
  redis: CacheClient,
  userIds: readonly string[],
  command: (pipeline: ChainableCommander, key: string) => unknown,
  pacing: FanoutPacing = { deliveriesPerSecond: 0 },
): Promise<unknown[]> {
  const rate = pacing.deliveriesPerSecond;
  // Paced: chunks of a quarter second's deliveries, so the writes spread over each second.
  const chunk =
    rate > 0 ? Math.max(1, Math.min(PIPELINE_CHUNK, Math.floor(rate / 4))) : PIPELINE_CHUNK;
  const started = Date.now();
  const replies: unknown[] = [];
  for (let i = 0; i < userIds.length; i += chunk) {
    if (rate > 0) {
      const due = started + (i / rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    replies.push(
      ...(await execPipeline(
        redis,
        (pipeline) => {
          for (const userId of userIds.slice(i, i + chunk)) {
            command(pipeline, cacheKeys.homeTimeline(userId));
          }
        },
        { attempts: CHUNK_RETRY.attempts, firstDelayMs: CHUNK_RETRY.firstDelayMs },
      )),
    );
  }
  return replies;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Adds tweets to each existing timeline among `userIds` (missing ones stay missing), trimmed to
 * the newest entries; one pipelined script call per timeline, in chunks paced to `pacing` and
 * each retried on its own (CHUNK_RETRY). Throws if a chunk still fails, so the fanout can report
 * the record for retry. Re-adding an entry is a no-op, so retries never
 * duplicate. Returns how many timelines existed and got the tweets.
 */
export async function addToTimelines(
  redis: CacheClient,
  userIds: readonly string[],
  tweetIds: readonly string[],
  max: number,
  pacing?: FanoutPacing,
): Promise<number> {
  if (tweetIds.length === 0) return 0;
  const args = pairs(tweetIds);
  const replies = await perTimeline(
    redis,
    userIds,
    (pipeline, key) => pipeline.timelineAdd(key, max, ...args),
    pacing,
  );
  return replies.filter((reply) => reply === 1).length;
}

/** Removes tweets from timelines; throws if Redis fails (the fanout retries). */
export async function removeFromTimelines(
  redis: CacheClient,
  userIds: readonly string[],
  tweetIds: readonly string[],
): Promise<void> {
  if (tweetIds.length === 0) return;
  await perTimeline(redis, userIds, (pipeline, key) => pipeline.zrem(key, ...tweetIds));
}

/** Best-effort removal from one timeline (a request must not fail because of Redis). */
export async function removeFromTimeline(
  redis: CacheClient,
  userId: string,
  tweetIds: readonly string[],
): Promise<void> {
  await tryCache('timeline remove', () => removeFromTimelines(redis, [userId], tweetIds));
}

/** Best-effort add to one timeline, if it exists. False when Redis failed. */
export async function addToTimeline(
  redis: CacheClient,
  userId: string,
  tweetIds: readonly string[],
  max: number,
): Promise<boolean> {
  const done = await tryCache('timeline add', async () => {
    await addToTimelines(redis, [userId], tweetIds, max);
    return true;
  });
  return done === true;
}

export interface StoredPage {
  /** False when the timeline is missing or half-built: the caller must rebuild it. */
  readonly built: boolean;
  /** Up to `count` tweet ids older than `before` (or the newest), newest first. */
  readonly tweetIds: string[];
  /** The value at `companionKey` (read in the same command), or null. */
  readonly companion: string | null;
  /** The timeline was cut at its depth: entries older than its last one are in DynamoDB only. */
  readonly floored: boolean;
}

/**
 * Reads one page of a timeline with a single script call (one command, one reply: cheaper than a
 * pipeline for the hottest read): the `built` marker, the entries, an expiry refresh, and the
 * value of one companion key. Undefined when Redis is unavailable.
 */
export async function readStoredPage(
  redis: CacheClient,
  userId: string,
  before: string | undefined,
  count: number,
  companionKey: string,
): Promise<StoredPage | undefined> {
  const score = before === undefined ? '' : String(tweetTime(before));
  const reply = await tryCommand(redis, 'timeline page', (client) =>
    client.timelinePage(
      cacheKeys.homeTimeline(userId),
      companionKey,
      TIMELINE_SENTINEL,
      TIMELINE_TTL_SECONDS,
      count,
      score,
    ),
  );
  if (reply === undefined) return undefined;
  const [built, ties, rest, companion, floored] = reply as [
    number,
    string[],
    string[],
    string | null,
    number,
  ];
  // Entries with the cursor's exact score sort by id: those below it come first, newest first.
  const below = before === undefined ? [] : ties.filter((id) => id < before).reverse();
  return {
    built: built === 1,
    tweetIds: [...below, ...rest].slice(0, count),
    companion: companion ?? null,
    floored: floored === 1,
  };
}

/**
 * Starts a rebuild: creates the key with a `building:{token}` marker first, so fanout lands in it
 * while DynamoDB is read. With `dropExisting`, a built but stale timeline is dropped first, so it
 * is not served as built meanwhile. Undefined when Redis is unavailable.
 */
export async function startBuild(
  redis: CacheClient,
  userId: string,
  dropExisting = false,
): Promise<string | undefined> {
  const key = cacheKeys.homeTimeline(userId);
  const marker = TIMELINE_BUILDING_PREFIX + randomBytes(8).toString('hex');
  const done = await tryPipeline(redis, 'timeline build start', (pipeline) => {
    if (dropExisting) pipeline.del(key);
    pipeline.zadd(key, '-inf', marker).expire(key, TIMELINE_TTL_SECONDS);
  });
  return done === undefined ? undefined : marker;
}

/** Completes a rebuild with the entries read from DynamoDB, if its marker survived. */
export async function finishBuild(
  redis: CacheClient,
  userId: string,
  marker: string,
  tweetIds: readonly string[],
  max: number,
): Promise<void> {
  await tryPipeline(redis, 'timeline build finish', (pipeline) =>
    pipeline.timelineFinishBuild(
      cacheKeys.homeTimeline(userId),
      marker,
      TIMELINE_SENTINEL,
      max,
      TIMELINE_TTL_SECONDS,
      ...pairs(tweetIds),
    ),
  );
}
