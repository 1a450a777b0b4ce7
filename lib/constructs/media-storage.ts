import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { privateLoggedBucketProps } from './access-logs';
import { MEDIA_PREFIXES, MEDIA_SERVING, UPLOAD_CORS } from '../../app/model';

export interface MediaStorageProps {
  /** Browser origins allowed to PUT to presigned upload URLs, e.g. https://app.example.com */
  readonly corsOrigins: readonly string[];
  /** Bucket that receives the S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * Originals under the upload prefix are inputs for the transcoder only (never served), so
   * they expire. Keep it longer than LIMITS.unattachedMediaTtlSeconds plus processing time.
   * @default Duration.days(7)
   */
  readonly uploadExpiration?: Duration;
}

/**
 * The media bucket: private (Block Public Access, BucketOwnerEnforced), SSE-S3 encrypted, TLS-only,
 * with CORS for browser PUTs to presigned URLs and server access logs. Clients upload originals
 * under uploads/; the transcoder writes variants under staged/; the media publisher copies those
 * of media attached to a tweet to media/, the only prefix the CDN serves.
 */
export class MediaStorage extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: MediaStorageProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateLoggedBucketProps(props.accessLogsBucket, 'media-bucket/'),
      cors:
        props.corsOrigins.length > 0
          ? [
              {
                allowedMethods: UPLOAD_CORS.allowedMethods.map((method) => s3.HttpMethods[method]),
                allowedOrigins: [...props.corsOrigins],
                allowedHeaders: [...UPLOAD_CORS.allowedHeaders],
                exposedHeaders: [...UPLOAD_CORS.exposedHeaders],
                maxAge: UPLOAD_CORS.maxAgeSeconds,
              },
            ]
          : undefined,
      lifecycleRules: [
        {
          id: 'expire-abandoned-uploads',
          prefix: MEDIA_PREFIXES.uploads,
          expiration: props.uploadExpiration ?? Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // Staged variants are needed only until published (within the unattached window);
          // this also removes the variants of runs whose record is gone (orphans).
          id: 'expire-staged-variants',
          prefix: MEDIA_PREFIXES.staged,
          expiration: Duration.days(MEDIA_SERVING.stagedExpirationDays),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
