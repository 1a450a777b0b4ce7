/**
 * The S3 client, built once per process, in a module of its own: only the functions that touch S3
 * (init-media, the transcoder, the media sweeper, the media publisher) import it, so the other handlers load no S3 SDK.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../app/model';
import { optionalEnv } from './config';

export const s3 = new S3Client({
  forcePathStyle: optionalEnv(ENV.s3ForcePathStyle) === 'true',
  // Without these the SDK signs a CRC32 of an empty body into presigned PUT URLs and S3 rejects
  // the client's real upload.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
