/**
 * Scheduled media sweeper (MEDIA_SWEEPER_FUNCTION): fails media stuck in processing and removes
 * media never attached to a tweet. See lambdas/transcoder/sweeper.ts.
 */
import { bucketName, dynamo, redis, tables } from '../platform/clients';
import { cacheOver } from '../platform/cache';
import { invalidateCachedTweet } from '../core/tweets/store';
import { s3 } from '../platform/s3-client';
import { METRICS } from '../../app/model';
import { sweepMedia } from '../transcoder/sweeper';
import { countMetric, publishMetrics } from '../platform/metrics';

// A media change shows in its tweet at once (issue 18: the wiring will pass this hook).
const cache = cacheOver(redis);
const onMediaChanged = (tweetId: string) => invalidateCachedTweet(cache, tweetId);

export async function handler() {
  const result = await sweepMedia({
    dynamo,
    s3,
    tables,
    onMediaChanged,
    bucket: bucketName(),
  });
  // Emitted on every run (zero included), so the MediaStuck alarm sees the sweeper is running.
  countMetric(METRICS.names.mediaProcessingTimeouts, result.timedOut);
  publishMetrics();
  return result;
}
