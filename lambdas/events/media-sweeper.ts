/**
 * Scheduled media sweeper (MEDIA_SWEEPER_FUNCTION): fails media stuck in processing and removes
 * media never attached to a tweet. See lambdas/media/sweeper.ts.
 */
import { bucketName, dynamo, redis, tables } from '../shared/clients';
import { s3 } from '../shared/s3-client';
import { sweepMedia } from '../media/sweeper';

export async function handler() {
  return sweepMedia({
    dynamo,
    s3,
    redis,
    metadataTable: tables.metadata,
    bucket: bucketName(),
    now: () => new Date(),
  });
}
