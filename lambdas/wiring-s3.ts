/**
 * The S3 half of the wiring (lambdas/wiring.ts): the ports of functions granted the media bucket.
 * Apart only so that functions without S3 access never bundle the S3 SDK.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ENV, LIMITS } from '../app/model';
import type { MediaStoreDeps } from './core/media/store';
import type { UploadDeps } from './core/ports';
import { invalidateCachedTweet } from './core/tweets/store';
import { intEnv } from './platform/config';
import { s3 } from './platform/s3-client';
import { bucketFor, cacheFor, tablesFor } from './wiring';

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

/** The media pipeline's ports: the table, S3 and the bucket (its name read on use). */
export interface MediaBucketDeps extends MediaStoreDeps {
  readonly s3: S3Client;
  readonly bucket: string;
}

export function mediaBucketDeps(id: string): MediaBucketDeps {
  return {
    ...tablesFor(id),
    s3,
    get bucket() {
      return bucketFor(id);
    },
  };
}

/**
 * The transcoder's and the sweeper's hook on a change of media attached to a tweet: drops the
 * tweet's cached copy, so readers see the new media state (the transcoder knows no tweets code).
 */
export function onMediaChangedFor(id: string): (tweetId: string) => Promise<void> {
  const cache = cacheFor(id);
  return (tweetId) => invalidateCachedTweet(cache, tweetId);
}
