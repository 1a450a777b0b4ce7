import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  FANOUT_FUNCTION,
  fanoutDeliveriesPerSecond,
  MEDIA_PUBLISHER_FUNCTION,
  MEDIA_SWEEPER_FUNCTION,
  METADATA_TABLE,
  ROUTES,
  TABLES,
  TRANSCODER_FUNCTION,
  TRANSCODER_RESERVED_CONCURRENCY,
  TWEETS_TABLE,
} from '../app/model';
import { AccessLogs } from './constructs/access-logs';
import { ChirpCache } from './constructs/cache';
import type { ChirpResources } from './constructs/chirp-function';
import { Fanout } from './constructs/fanout';
import { ChirpApi } from './constructs/http-api';
import { MediaCdn } from './constructs/media-cdn';
import { MediaPublisher } from './constructs/media-publisher';
import { MediaStorage } from './constructs/media-storage';
import { MediaSweeper } from './constructs/media-sweeper';
import { Monitoring } from './constructs/monitoring';
import { ChirpTables } from './constructs/tables';
import { Transcoder } from './constructs/transcoder';
import { WebApp } from './constructs/web-app';

export interface ChirpStackProps extends StackProps {
  /** Regions that get a replica of every table. @default - none */
  readonly replicaRegions?: readonly string[];
  /** Browser origins allowed to call the API and PUT uploads, besides the web app's. @default - none */
  readonly corsOrigins?: readonly string[];
  /** Directory the model's entry paths are relative to. @default the repository root */
  readonly projectRoot?: string;
  /** @default TRANSCODER_FUNCTION.memoryMb (3008, the most many new accounts allow) */
  readonly transcoderMemoryMb?: number;
  /** 0 reserves none. @default TRANSCODER_RESERVED_CONCURRENCY */
  readonly transcoderReservedConcurrency?: number;
  /**
   * Lambda's X-Ray mode: 'active' samples 1 request/s + 5 % of each function's invocations (a
   * fixed rate, 5 USD per million traces beyond 100,000 a month). @default 'passThrough'
   */
  readonly lambdaTracing?: 'active' | 'passThrough';
  /** Email address subscribed to the alarm topic. @default - none */
  readonly alarmEmail?: string;
  /**
   * Per-user limits for the route functions, as their environment variables (ENV.rateLimits,
   * maxFollowees, pendingUploadsMax, uploadBytesPerDay). @default - the app model's LIMITS
   */
  readonly limits?: Readonly<Record<string, string>>;
}

/** Chirp on AWS: composes one construct per concern; the app model supplies the details. */
export class ChirpStack extends Stack {
  public readonly tables: ChirpTables;
  public readonly media: MediaStorage;
  public readonly cdn: MediaCdn;
  public readonly cache: ChirpCache;
  public readonly api: ChirpApi;
  public readonly fanout: Fanout;
  public readonly transcoder: Transcoder;
  public readonly mediaSweeper: MediaSweeper;
  public readonly mediaPublisher: MediaPublisher;
  public readonly monitoring: Monitoring;
  public readonly webApp: WebApp;

  constructor(scope: Construct, id: string, props: ChirpStackProps = {}) {
    super(scope, id, props);
    const projectRoot = props.projectRoot;

    const accessLogs = new AccessLogs(this, 'AccessLogs');
    // First, so the API, the bucket and the CDN can allow its origin (CORS) and Cognito its URL.
    this.webApp = new WebApp(this, 'Web', { accessLogsBucket: accessLogs.bucket });
    const corsOrigins = [...(props.corsOrigins ?? []), this.webApp.url];
    this.tables = new ChirpTables(this, 'Tables', {
      schemas: TABLES,
      replicaRegions: props.replicaRegions,
    });
    this.media = new MediaStorage(this, 'Media', {
      corsOrigins,
      accessLogsBucket: accessLogs.bucket,
    });
    this.cdn = new MediaCdn(this, 'Cdn', {
      bucket: this.media.bucket,
      accessLogsBucket: accessLogs.bucket,
      corsOrigins,
    });
    this.cache = new ChirpCache(this, 'Cache', { flowLogsBucket: accessLogs.bucket });

    const resources: ChirpResources = {
      tweetsTable: this.tables.table(TWEETS_TABLE),
      metadataTable: this.tables.table(METADATA_TABLE),
      mediaBucket: this.media.bucket,
      cdnBaseUrl: this.cdn.baseUrl,
      cache: this.cache,
      tracing:
        props.lambdaTracing === 'active' ? lambda.Tracing.ACTIVE : lambda.Tracing.PASS_THROUGH,
    };

    this.cache.restrictEndpointsTo(
      [resources.tweetsTable, resources.metadataTable],
      resources.mediaBucket,
    );

    this.api = new ChirpApi(this, 'Http', {
      routes: ROUTES,
      resources,
      corsOrigins,
      projectRoot,
      ...(props.limits !== undefined ? { environment: props.limits } : {}),
      webAppUrl: this.webApp.url,
    });
    const webLogin = this.api.webLogin as NonNullable<ChirpApi['webLogin']>;
    this.webApp.deploy({
      apiUrl: this.api.url.replace(/\/$/, ''),
      cdnUrl: this.cdn.baseUrl,
      uploadOrigin: `https://${this.media.bucket.bucketRegionalDomainName}`,
      cognitoAuthority: this.api.issuer,
      cognitoDomain: webLogin.domainUrl,
      cognitoClientId: webLogin.client.userPoolClientId,
    });
    this.fanout = new Fanout(this, 'Fanout', {
      spec: FANOUT_FUNCTION,
      resources,
      table: resources.tweetsTable,
      deliveriesPerSecond: fanoutDeliveriesPerSecond(this.cache.maxEcpuPerSecond),
      projectRoot,
    });
    this.transcoder = new Transcoder(this, 'Transcoder', {
      spec: {
        ...TRANSCODER_FUNCTION,
        memoryMb: props.transcoderMemoryMb ?? TRANSCODER_FUNCTION.memoryMb,
      },
      reservedConcurrency: props.transcoderReservedConcurrency ?? TRANSCODER_RESERVED_CONCURRENCY,
      resources,
      bucket: this.media.bucket,
      projectRoot,
    });
    this.mediaSweeper = new MediaSweeper(this, 'MediaSweeper', {
      spec: MEDIA_SWEEPER_FUNCTION,
      resources,
      projectRoot,
    });

    this.mediaPublisher = new MediaPublisher(this, 'MediaPublisher', {
      spec: MEDIA_PUBLISHER_FUNCTION,
      resources,
      table: resources.metadataTable,
      projectRoot,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...(props.alarmEmail !== undefined ? { alarmEmail: props.alarmEmail } : {}),
      routeFunctions: this.api.functions,
      eventFunctions: [
        this.fanout.function,
        this.transcoder.function,
        this.mediaSweeper.function,
        this.mediaPublisher.function,
      ],
      fanout: this.fanout.function,
      transcoder: this.transcoder.function,
      failureQueues: {
        Fanout: this.fanout.failures.queue,
        Transcoder: this.transcoder.failures.queue,
        MediaPublisher: this.mediaPublisher.failures.queue,
      },
      httpApi: this.api.api,
      stage: this.api.stage,
      cache: this.cache,
      tables: [resources.tweetsTable, resources.metadataTable],
      sweeperScheduleMinutes: MEDIA_SWEEPER_FUNCTION.scheduleMinutes,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'CdnDomain', {
      value: this.cdn.distribution.distributionDomainName,
      description: 'CloudFront domain serving processed media',
    });
    new CfnOutput(this, 'WebAppUrl', {
      value: this.webApp.url,
      description: 'The web app (CloudFront), signed in through Cognito managed login',
    });
    new CfnOutput(this, 'UserPoolId', { value: this.api.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.api.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'VerifyClientId', {
      value: this.api.verifyClient.userPoolClientId,
      description: 'Cognito client of the post-deploy check (npm run verify), admin sign-in only',
    });
    new CfnOutput(this, 'MediaBucketName', { value: this.media.bucket.bucketName });
    new CfnOutput(this, 'TweetsTableName', { value: resources.tweetsTable.tableName });
    new CfnOutput(this, 'MetadataTableName', { value: resources.metadataTable.tableName });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}
