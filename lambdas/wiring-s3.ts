/**
 * The S3 half of the wiring (lambdas/wiring.ts): the ports of functions granted the media bucket.
 * Apart only so that functions without S3 access never bundle the S3 SDK.
 */
import { ENV, LIMITS } from '../app/model';
import type { UploadDeps } from './core/ports';
import { intEnv } from './platform/config';
import { s3 } from './platform/s3-client';
import { bucketFor, tablesFor } from './wiring';

/** The upload routes' ports (init, complete): tables, the presigning S3 client, the quota. */
export function uploadDeps(id: string): UploadDeps {
  return {
    ...tablesFor(id),
    s3,
    bucket: bucketFor(id),
    uploadQuota: {
      pendingMax: intEnv(ENV.pendingUploadsMax, LIMITS.pendingUploadsMaxDefault),
      bytesPerDay: intEnv(ENV.uploadBytesPerDay, LIMITS.uploadBytesPerDayDefault),
    },
  };
}
