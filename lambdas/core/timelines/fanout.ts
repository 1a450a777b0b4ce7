/**
 * Fanout on write: each new tweet goes into the home timelines of its author and the author's
 * followers; each deleted tweet leaves them. Authors with more than `fanoutMaxFollowers`
 * followers are not fanned out; readers merge their tweets in (lambdas/core/timelines/service.ts).
 *
 * Timelines are sorted sets scored by tweet time, so replaying a change is a no-op: retried
 * batches never duplicate entries. A Redis failure is thrown, so the batch is retried.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logger } from '../../platform/logger';
import type { Deps } from '../ports';
import { fanoutFollowers } from '../follows/store';
import { parseTweetId } from '../ids';
import {
  addToTimelines,
  removeFromTimelines,
  updateAuthorCaches,
  whenTimelinesReachable,
} from './store';
import { METRICS } from '../../../app/model';
import { countMetric } from '../../platform/metrics';

export interface TweetChange {
  readonly kind: 'insert' | 'remove';
  readonly author: string;
  readonly tweetId: string;
}

/** Applies one change to every affected timeline. Throws if any write failed. */
export async function fanoutChange(deps: Deps, change: TweetChange): Promise<void> {
  const { author, tweetId } = change;
  const audience = await fanoutFollowers(deps, author);
  // The author's own timeline and caches first, in one round trip.
  await updateAuthorCaches(deps, change, audience === 'celebrity');
  // Celebrities' tweets are merged at read time; deleted ones are skipped when hydrated.
  if (audience === 'celebrity') return;
  if (change.kind === 'insert') {
    const delivered = await addToTimelines(deps, audience, [tweetId], deps.timelineMaxEntries, {
      deliveriesPerSecond: deps.fanoutDeliveriesPerSecond ?? 0,
    });
    countMetric(METRICS.names.fanoutDeliveries, delivered);
    // Not cached (evicted or never read): rebuilt from DynamoDB on the next read.
    countMetric(METRICS.names.fanoutTimelinesSkipped, audience.length - delivered);
  } else await removeFromTimelines(deps, audience, [tweetId]);
}

/**
 * Applies a batch of changes, concurrently except that changes to the same tweet keep their order.
 * Returns the index of the first change that failed (everything from there must be retried), or
 * undefined when all succeeded.
 */
export async function fanoutBatch(
  deps: Deps,
  changes: readonly (TweetChange | undefined)[],
  concurrency = 8,
): Promise<number | undefined> {
  const failed = new Set<number>();
  const chains = new Map<string, Promise<boolean>>();
  let next = 0;
  const worker = async () => {
    while (next < changes.length) {
      const index = next++;
      const change = changes[index];
      if (change === undefined) continue;
      const previous = chains.get(change.tweetId) ?? Promise.resolve(true);
      const run = previous.then(async (ok) => {
        if (!ok) return false;
        try {
          await fanoutChange(deps, change);
          return true;
        } catch (error) {
          logger.warn('fanout failed; the batch will be retried', {
            tweetId: change.tweetId,
            kind: change.kind,
            error: error instanceof Error ? error.message : String(error),
          });
          return false;
        }
      });
      chains.set(change.tweetId, run);
      if (!(await run)) failed.add(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return failed.size === 0 ? undefined : Math.min(...failed);
}

/** The tweet a stream record is about; undefined for records the fanout ignores. */
export function tweetChange(record: DynamoDBRecord): TweetChange | undefined {
  const kind =
    record.eventName === 'INSERT' ? 'insert' : record.eventName === 'REMOVE' ? 'remove' : undefined;
  if (kind === undefined) return undefined; // tweets are immutable; MODIFY changes nothing here
  const author = record.dynamodb?.Keys?.user_id?.S;
  const tweetId = record.dynamodb?.Keys?.tweet_id?.S;
  const key = tweetId === undefined ? undefined : parseTweetId(tweetId);
  if (author === undefined || key === undefined || key.user_id !== author) {
    logger.warn('skipping a stream record that is not a tweet', { eventID: record.eventID });
    return undefined;
  }
  return { kind, author, tweetId: key.tweet_id };
}

/** A cold start may still be connecting to Redis; waiting briefly beats a failed, retried batch. */
const REDIS_READY_WAIT_MS = 1000;

/**
 * The stream handler. Reports partial batch failures: the first failed record and every record
 * after it, so the retry resumes in order (ReportBatchItemFailures).
 */
export function createFanoutHandler(
  deps: Deps,
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const records = event.Records ?? [];
    await whenTimelinesReachable(deps, REDIS_READY_WAIT_MS);
    const failedFrom = await fanoutBatch(deps, records.map(tweetChange));
    if (failedFrom === undefined) return { batchItemFailures: [] };
    return {
      batchItemFailures: records.slice(failedFrom).map((record) => ({
        itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '',
      })),
    };
  };
}
