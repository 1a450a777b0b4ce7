import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AccessLogsProps {
  /** @default Duration.days(90) */
  readonly retention?: Duration;
}

/**
 * What every private bucket of the stack is (no public access, no ACLs, encrypted, TLS only) and
 * where its S3 server access logs go: the access-log bucket, under the bucket's own prefix.
 */
export const privateLoggedBucketProps = (accessLogsBucket: s3.IBucket, logPrefix: string) =>
  ({
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: logPrefix,
  }) satisfies s3.BucketProps;

/**
 * One private bucket for every access log the stack writes: S3 server access logs, CloudFront
 * standard logs and VPC flow logs, each under its own prefix, expired after the retention.
 */
export class AccessLogs extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging still writes through bucket ACLs, so ACLs stay usable here
      // (and only here); S3 server access logs and flow logs use the bucket policy.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: props.retention ?? Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
