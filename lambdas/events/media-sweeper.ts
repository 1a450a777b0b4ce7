/**
 * Scheduled media sweeper (MEDIA_SWEEPER_FUNCTION): fails media stuck in processing and removes
 * media never attached to a tweet. See lambdas/transcoder/sweeper.ts.
 */
import { bucketName, dynamo, redis, tables } from '../platform/clients';
import { s3 } from '../platform/s3-client';
import { METRICS } from '../../app/model';
import { sweepMedia } from '../transcoder/sweeper';
import { countMetric, publishMetrics } from '../platform/metrics';

export async function handler() {
  const result = await sweepMedia({
    dynamo,
    s3,
    redis,
    metadataTable: tables.metadata,
    bucket: bucketName(),
    now: () => new Date(),
  });
  // Emitted on every run (zero included), so the MediaStuck alarm sees the sweeper is running.
  countMetric(METRICS.names.mediaProcessingTimeouts, result.timedOut);
  publishMetrics();
  return result;
}
