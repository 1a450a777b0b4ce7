/**
 * Scheduled media sweeper (MEDIA_SWEEPER_FUNCTION): fails media stuck in processing and removes
 * media never attached to a tweet. See lambdas/transcoder/sweeper.ts.
 */
import { MEDIA_SWEEPER_FUNCTION, METRICS } from '../../app/model';
import { mediaBucketDeps, onMediaChangedFor } from '../wiring-s3';
import { sweepMedia } from '../transcoder/sweeper';
import type { Context } from 'aws-lambda';
import { logInvocation } from '../platform/logger';
import { countMetric, publishMetrics } from '../platform/metrics';

const ports = mediaBucketDeps(MEDIA_SWEEPER_FUNCTION.id);
const onMediaChanged = onMediaChangedFor(MEDIA_SWEEPER_FUNCTION.id);

export async function handler(_event?: unknown, context?: Context) {
  logInvocation(context);
  const result = await sweepMedia({
    ...ports,
    onMediaChanged,
  });
  // Emitted on every run (zero included), so the MediaStuck alarm sees the sweeper is running.
  countMetric(METRICS.names.mediaProcessingTimeouts, result.timedOut);
  publishMetrics();
  return result;
}
