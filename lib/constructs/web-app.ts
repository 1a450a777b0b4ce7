/**
 * The web app (web/) on AWS: a private bucket, a CloudFront distribution of its own with Origin
 * Access Control, and a BucketDeployment of the Vite build (run once at synth, no Docker) plus
 * config.json and an index.html carrying the Content-Security-Policy.
 *
 * A second distribution rather than a behaviour on the media one: user media and the app then have
 * different origins, so a hostile file that slipped through as a document could never run with the
 * app's origin (its tokens in sessionStorage); and the two want opposite policies (media:
 * `default-src 'none'; sandbox`, immutable, path-only cache key; the app: scripts, no-cache HTML).
 *
 * The CSP lives in a <meta> tag written at deploy time, with a static header policy for what a
 * meta tag cannot say (frame-ancestors). A header naming the API and the bucket would make the
 * distribution depend on them while their CORS rules depend on the distribution's domain: a cycle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { privateLoggedBucketProps } from './access-logs';
import { regionalName } from './regional-name';
import { securityHeaders } from './security-headers';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const WEB_DIR = join(PROJECT_ROOT, 'web');

interface WebBuild {
  /** Everything but index.html. */
  readonly assetsDir: string;
  readonly indexHtml: string;
}

let build: WebBuild | undefined;

/** `vite build` into a temporary folder, once per process (several stacks share it). */
function buildWebApp(): WebBuild {
  if (build === undefined) {
    const outDir = mkdtempSync(join(tmpdir(), 'chirp-web-'));
    execFileSync(
      join(PROJECT_ROOT, 'node_modules', '.bin', 'vite'),
      ['build', WEB_DIR, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: PROJECT_ROOT,
        stdio: 'inherit',
        env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
      },
    );
    const indexHtml = readFileSync(join(outDir, 'index.html'), 'utf8');
    rmSync(join(outDir, 'index.html'));
    build = { assetsDir: outDir, indexHtml };
  }
  return build;
}

/** With bundling skipped (tests, `cdk synth --exclusively` of other stacks): the sources stand in. */
const unbuilt = (): WebBuild => ({
  assetsDir: join(WEB_DIR, 'src'),
  indexHtml: readFileSync(join(WEB_DIR, 'index.html'), 'utf8'),
});

export interface WebAppProps {
  readonly accessLogsBucket: s3.IBucket;
  /** @default cloudfront.PriceClass.PRICE_CLASS_ALL */
  readonly priceClass?: cloudfront.PriceClass;
}

/** What the deployed app talks to: written into config.json and the CSP. */
export interface WebAppTargets {
  readonly apiUrl: string;
  readonly cdnUrl: string;
  /** https://<bucket regional domain>: presigned PUTs go straight there. */
  readonly uploadOrigin: string;
  /** The user pool's issuer (https://cognito-idp.<region>.amazonaws.com/<pool id>). */
  readonly cognitoAuthority: string;
  /** The managed login domain (https://<prefix>.auth.<region>.amazoncognito.com). */
  readonly cognitoDomain: string;
  readonly cognitoClientId: string;
}

export class WebApp extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** https://<distribution domain>: the app's URL, origin for CORS and OAuth callbacks. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateLoggedBucketProps(props.accessLogsBucket, 'web-bucket/'),
      // Only build output lives here; every deploy writes it again.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Account-global names carry the region (regional-name.ts).
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: regionalName(this, 128),
      comment: 'Chirp web app: the CSP itself is in index.html (see lib/constructs/web-app.ts)',
      securityHeadersBehavior: securityHeaders(
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
      ),
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Chirp web app',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
            originAccessControlName: regionalName(this, 64),
          }),
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.accessLogsBucket,
      logFilePrefix: 'cloudfront-web/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'A public web app for a global service: no legal basis for geo restriction.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static files only (GET/HEAD, S3 behind OAC, no cookies or query strings to the origin); the API behind it has its own throttling. Attach a WAF web ACL (us-east-1) if abuse appears.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate, for which CloudFront fixes the minimum protocol; a custom domain with an ACM certificate and TLSv1.2_2021 remediates. Viewers are redirected to HTTPS.',
      },
    );
  }

  /** The Content-Security-Policy of the app: itself, the API, the upload bucket, the CDN, Cognito. */
  contentSecurityPolicy(targets: WebAppTargets): string {
    // oidc-client-ts reads the issuer's discovery document and keys; the token call goes to the domain.
    const cognitoIdp = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com`;
    return [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data: blob: ${targets.cdnUrl}`,
      `media-src 'self' blob: ${targets.cdnUrl}`,
      `connect-src 'self' ${targets.apiUrl} ${targets.uploadOrigin} ${cognitoIdp} ${targets.cognitoDomain}`,
      `form-action 'self' ${targets.cognitoDomain}`,
      "object-src 'none'",
      "base-uri 'self'",
    ].join('; ');
  }

  /** Uploads the build, config.json and index.html (with the CSP), then invalidates the cache. */
  deploy(targets: WebAppTargets): s3deploy.BucketDeployment {
    const web = Stack.of(this).bundlingRequired ? buildWebApp() : unbuilt();
    const csp = this.contentSecurityPolicy(targets);
    const indexHtml = web.indexHtml.replace(
      '<meta charset="utf-8" />',
      `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${csp}" />`,
    );
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(web.assetsDir),
        s3deploy.Source.data('index.html', indexHtml),
        s3deploy.Source.jsonData('config.json', {
          apiUrl: targets.apiUrl,
          cdnUrl: targets.cdnUrl,
          auth: {
            mode: 'cognito',
            authority: targets.cognitoAuthority,
            clientId: targets.cognitoClientId,
            domain: targets.cognitoDomain,
            scope: 'openid email profile',
          },
        }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    this.acknowledgeDeploymentFindings(deployment);
    return deployment;
  }

  /** cdk-nag findings on CDK's own BucketDeployment handler (a stack-level singleton). */
  private acknowledgeDeploymentFindings(deployment: s3deploy.BucketDeployment): void {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (handler === undefined) throw new Error('BucketDeployment handler not found');
    const bucketArn = `<${stack.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`;
    const role = deployment.handlerRole;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's BucketDeployment handler, which runs only during deployments: the AWS-managed policy lets it write its own logs.",
    });
    for (const [finding, reason] of [
      [
        'Resource::*',
        'CloudFront CreateInvalidation/GetInvalidation have no resource-level permissions.',
      ],
      [
        `Resource::${bucketArn}/*`,
        "Writes and prunes the web app's files: every key of the app's own bucket.",
      ],
      [
        `Resource::arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*`,
        "Reads the build from the CDK bootstrap's asset bucket (CDK's own grant).",
      ],
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map(
        (action) => [
          `Action::${action}`,
          "CDK's read/write grant on the app bucket and the asset bucket for the deployment handler.",
        ],
      ),
    ] as const) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib (Python, with the AWS CLI layer) and moves with CDK upgrades.",
    });
  }
}
