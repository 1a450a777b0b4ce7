import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MEDIA_CDN_CORS, MEDIA_PREFIXES, MEDIA_SERVING, SECURITY_HEADERS } from '../../app/model';
import { regionalName } from './regional-name';
import { securityHeaders } from './security-headers';

export interface MediaCdnProps {
  /** The media bucket; only its processed prefix becomes readable by the distribution. */
  readonly bucket: s3.IBucket;
  /** Bucket for CloudFront standard logs (must allow ACLs). */
  readonly accessLogsBucket: s3.IBucket;
  /** Web origins allowed to fetch media with CORS (canvas, fetch()). @default - none */
  readonly corsOrigins?: readonly string[];
  /** @default cloudfront.PriceClass.PRICE_CLASS_ALL */
  readonly priceClass?: cloudfront.PriceClass;
}

/**
 * CloudFront over the processed-media prefix only. The origin uses Origin Access Control, and the
 * bucket policy lets this distribution read `media/*` and nothing else, so originals under
 * uploads/ can never be served, whatever path a viewer asks for (they get 403). URLs map 1:1 to
 * keys: https://<domain>/media/<key>. Only media attached to a tweet is under media/ (the media
 * publisher copies it there and deletes it when the tweet is deleted). Edges keep an object at
 * most MEDIA_SERVING.cdnMaxTtlSeconds, which bounds how long a deleted tweet's media is still
 * served; browsers keep it a year (content-addressed, immutable). The cache key ignores cookies,
 * headers and query strings. A 403 (not yet published, or withdrawn) is not cached.
 */
export class MediaCdn extends Construct {
  public readonly distribution: cloudfront.Distribution;
  /** https://<distribution domain>, the CDN_BASE_URL handlers build media URLs from. */
  public readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: MediaCdnProps) {
    super(scope, id);
    const processedObjects = props.bucket.arnForObjects(`${MEDIA_PREFIXES.processed}*`);

    // The origin sees an imported view of the bucket, so S3BucketOrigin cannot add its default
    // statement (GetObject on every key); the narrower statement is added below instead.
    const bucketView = s3.Bucket.fromBucketAttributes(this, 'OriginBucket', {
      bucketArn: props.bucket.bucketArn,
      bucketName: props.bucket.bucketName,
      bucketRegionalDomainName: props.bucket.bucketRegionalDomainName,
    });
    const originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
      originAccessControlName: regionalName(this, 64),
      description: 'Lets the media distribution read the processed prefix of the media bucket',
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(bucketView, {
      originAccessLevels: [cloudfront.AccessLevel.READ],
      originAccessControl,
    });

    const edgeTtl = Duration.seconds(MEDIA_SERVING.cdnMaxTtlSeconds);
    const cachePolicy = new cloudfront.CachePolicy(this, 'ImmutableMedia', {
      comment:
        'Content-addressed media of live tweets: edges revalidate hourly (deletes), path key',
      minTtl: Duration.seconds(0),
      defaultTtl: edgeTtl,
      maxTtl: edgeTtl,
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
    });

    const corsOrigins = props.corsOrigins ?? [];
    const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: regionalName(this, 128),
      comment: 'Security headers for user media; media is never a document',
      // Even if a hostile file slipped through as HTML or SVG, it could run nothing.
      securityHeadersBehavior: securityHeaders(SECURITY_HEADERS.mediaContentSecurityPolicy),
      corsBehavior:
        corsOrigins.length > 0
          ? {
              accessControlAllowCredentials: MEDIA_CDN_CORS.allowCredentials,
              accessControlAllowHeaders: [...MEDIA_CDN_CORS.allowHeaders],
              accessControlAllowMethods: [...MEDIA_CDN_CORS.allowMethods],
              accessControlAllowOrigins: [...corsOrigins],
              accessControlMaxAge: Duration.seconds(MEDIA_CDN_CORS.maxAgeSeconds),
              originOverride: MEDIA_CDN_CORS.originOverride,
            }
          : undefined,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Chirp processed media (media/ prefix only)',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy,
      },
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        ttl: Duration.seconds(MEDIA_SERVING.cdnErrorTtlSeconds),
      })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.accessLogsBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;

    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudFrontReadsProcessedMediaOnly',
        actions: ['s3:GetObject'],
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        resources: [processedObjects],
        conditions: {
          StringEquals: {
            'AWS:SourceArn': Stack.of(this).formatArn({
              service: 'cloudfront',
              region: '',
              resource: 'distribution',
              resourceName: this.distribution.distributionId,
            }),
          },
        },
      }),
    );

    Validations.of(this.distribution).acknowledge(
      {
        id: 'Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
        reason:
          'Intended: the origin gets an imported view of the bucket so that CDK does not grant GetObject on every key; the statement above grants this distribution media/* only.',
      },
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Chirp is a global service: media attached to public tweets is served to every country; there is no legal basis in this product for geo restriction.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves only immutable, content-addressed media objects with GET/HEAD, no application logic, no cookies or query strings reach the origin, and the origin is S3 behind OAC; a WAF web ACL would add cost without a threat to filter. Attach one (us-east-1) if abuse appears.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the minimum protocol; set a custom domain with an ACM certificate and TLSv1.2_2021 to remediate. Viewers are forced to HTTPS.',
      },
    );
  }
}
