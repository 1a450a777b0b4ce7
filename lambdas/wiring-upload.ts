/**
 * The upload domain's dependencies (init-media), built from the module-scope clients once per
 * process. Apart from production-deps.ts because it carries the S3 client.
 */
import { ENV, LIMITS } from '../app/model';
import { bucketName, dynamo, tables } from './platform/clients';
import { intEnv } from './platform/config';
import { s3 } from './platform/s3-client';
import type { UploadDeps } from './core/ports';

export function productionUploadDeps(): UploadDeps {
  return {
    dynamo,
    s3,
    tables,
    bucket: bucketName(),
    uploadQuota: {
      pendingMax: intEnv(ENV.pendingUploadsMax, LIMITS.pendingUploadsMaxDefault),
      bytesPerDay: intEnv(ENV.uploadBytesPerDay, LIMITS.uploadBytesPerDayDefault),
    },
  };
}
