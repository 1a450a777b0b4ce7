/**
 * Transcoder: S3 ObjectCreated events under uploads/ -> processUpload for each.
 * Permanent problems end as `failed` media and return normally; an outage throws (after every
 * record had its turn) so Lambda's async retries run the event again. Re-running is safe: claims
 * are conditional and outputs content-addressed. The request id names the claim: Lambda's retries
 * keep it, so a retry can take over the claim of its own attempt that died.
 */
import type { Context } from 'aws-lambda';
import { mediaBucketDeps, onMediaChangedFor } from '../wiring-s3';
import { logger, logInvocation } from '../platform/logger';
import { processUpload, type MediaDeps } from '../transcoder/process-upload';
import { uploadsFromS3Event } from '../transcoder/s3-event';
import { mediaToolsFromEnv } from '../transcoder/settings';
import { METRICS, TRANSCODER_FUNCTION } from '../../app/model';
import { emitMetric } from '../platform/metrics';

const tools = mediaToolsFromEnv();
const ports = mediaBucketDeps(TRANSCODER_FUNCTION.id);
const onMediaChanged = onMediaChangedFor(TRANSCODER_FUNCTION.id);

export async function handler(
  event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>,
) {
  logInvocation(context);
  const deps: MediaDeps = {
    ...ports,
    onMediaChanged,
    tools,
    ...(context ? { deadline: Date.now() + context.getRemainingTimeInMillis() } : {}),
    ...(context?.awsRequestId !== undefined ? { invocationId: context.awsRequestId } : {}),
  };
  const uploads = uploadsFromS3Event(event);
  const errors: unknown[] = [];
  for (const upload of uploads) {
    try {
      const started = Date.now();
      const outcome = await processUpload(deps, upload);
      logger.info('upload processed', { key: upload.key, ...outcome });
      if (outcome.status !== 'ignored') {
        const dimensions = { [METRICS.dimensions.mediaKind]: outcome.kind };
        const name =
          outcome.status === 'ready' ? METRICS.names.mediaProcessed : METRICS.names.mediaFailed;
        emitMetric(name, 1, 'Count', dimensions);
        emitMetric(
          METRICS.names.mediaProcessingMs,
          Date.now() - started,
          'Milliseconds',
          dimensions,
        );
      }
    } catch (error) {
      logger.error('upload processing interrupted; will retry', { key: upload.key, error });
      errors.push(error);
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `${errors.length} of ${uploads.length} uploads need a retry`);
  }
  return { processed: uploads.length };
}
