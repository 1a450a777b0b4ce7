/**
 * The upload domain's dependencies (init-media), built from the module-scope clients once per
 * process. Apart from production-deps.ts because it carries the S3 client.
 */
import { bucketName, dynamo, tables } from '../shared/clients';
import { s3 } from '../shared/s3-client';
import type { UploadDeps } from './deps';

export function productionUploadDeps(): UploadDeps {
  return { dynamo, s3, tables, bucket: bucketName() };
}
