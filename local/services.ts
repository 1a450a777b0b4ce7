/**
 * The stateful services behind the handlers, on free ports: DynamoDB Local (tables from the app
 * model), the S3 emulator (media bucket, with CORS for the given origins) and redis-server. Returns the environment the
 * handlers read, and handles to stop and restart each service for fault injection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type S3rver from '@20minutes/s3rver';
import { ENV, TABLES, TWEETS_TABLE, METADATA_TABLE } from '../app/model';
import { DynamoDbLocal } from './dynamodb-local';
import { startDynamoDbProxy } from './iam/dynamodb-proxy';
import { allFunctionCredentials, IamEnforcer } from './iam/enforcer';
import { resolvePolicies, synthesizedPolicies } from './iam/policies';
import { silentLog, type Log } from './log';
import { localMediaTools } from './media-tools';
import { freePort } from './ports';
import { RedisServer } from './redis-server';
import { S3_BUCKET_NAME, S3Emulator, S3RVER_CREDENTIALS } from './s3-emulator';
import { ensureTable, localTableName } from './tables';

export const DEFAULT_REGION = 'us-east-1';

export interface StartServicesOptions {
  /** Where data lives across restarts. Undefined: a fresh temp dir, deleted by stop(). */
  readonly dataDir?: string;
  /**
   * DynamoDB Local's -inMemory mode (fastest, but a DynamoDB restart loses every table).
   * @default false
   */
  readonly dynamoInMemory?: boolean;
  /** Use this Redis instead of starting redis-server. @default process.env.REDIS_URL */
  readonly redisUrl?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** Receives every object event of the S3 emulator (raw s3rver shape). */
  readonly onS3Event?: (record: S3rver.EventRecord) => void;
  /** Origins the media bucket's CORS rule allows. @default none */
  readonly corsOrigins?: readonly string[];
  /**
   * Authorize every call a function makes to DynamoDB and S3 against its role policy as `cdk
   * synth` emits it (local/iam/). @default true
   */
  readonly enforceIam?: boolean;
  readonly log?: Log;
}

/** A service tests can take down and bring back mid-run. */
export interface RestartableService {
  readonly pid: number | undefined;
  readonly isRunning: boolean;
  readonly commandLine: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Services {
  /** Handler environment: table and bucket names, endpoints, credentials, region, Redis URL. */
  readonly env: Readonly<Record<string, string>>;
  readonly dataDir: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** DynamoDB Local itself (no IAM checks): for the operator's own tools, like the stream pump. */
  readonly dynamoEndpoint: string;
  /** What the handlers and tests call: DynamoDB Local behind the IAM-enforcing proxy. */
  readonly dynamoApiEndpoint: string;
  readonly s3Endpoint: string;
  readonly redisUrl: string;
  readonly tableNames: { readonly tweets: string; readonly metadata: string };
  readonly bucket: string;
  readonly dynamo: RestartableService;
  /** Undefined when an external Redis (REDIS_URL) is used. */
  readonly redis: (RestartableService & { readonly port: number }) | undefined;
  readonly s3: S3Emulator;
  /** Stops every service; deletes the data dir if it was a temp dir. */
  stop(): Promise<void>;
}

export async function startServices(options: StartServicesOptions = {}): Promise<Services> {
  const log = options.log ?? silentLog;
  const region = options.region ?? process.env.AWS_REGION ?? DEFAULT_REGION;
  const ephemeral = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'chirp-local-'));
  const credentials = { ...S3RVER_CREDENTIALS };
  const externalRedisUrl = options.redisUrl ?? process.env.REDIS_URL;

  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const service of started.reverse()) {
      await service.stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
    if (ephemeral) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const [dynamoPort, redisPort] = await Promise.all([freePort(), freePort()]);
    const dynamo = new DynamoDbLocal({
      port: dynamoPort,
      dbPath: options.dynamoInMemory === true ? undefined : join(dataDir, 'dynamodb'),
      region,
      credentials,
      log,
    });
    const redis = externalRedisUrl === undefined ? new RedisServer(redisPort, log) : undefined;
    const tableNames = {
      tweets: localTableName(TWEETS_TABLE),
      metadata: localTableName(METADATA_TABLE),
    };
    const names = {
      region,
      env: {
        [ENV.tweetsTable]: tableNames.tweets,
        [ENV.metadataTable]: tableNames.metadata,
        [ENV.mediaBucket]: S3_BUCKET_NAME,
      },
    };
    // Synthesized in a child process once the services are up (or read from its cache): run
    // alongside, a cold synth starved DynamoDB Local's JVM start on a busy machine.
    let resolveEnforcer: (enforcer: Promise<IamEnforcer>) => void = () => undefined;
    const enforcer =
      options.enforceIam === false
        ? undefined
        : new Promise<IamEnforcer>((resolve) => {
            resolveEnforcer = resolve;
          });
    const s3 = new S3Emulator({
      ...(enforcer !== undefined ? { enforcer } : {}),
      directory: join(dataDir, 's3'),
      bucket: S3_BUCKET_NAME,
      log,
      corsOrigins: options.corsOrigins ?? [],
      ...(options.onS3Event !== undefined ? { onEvent: options.onS3Event } : {}),
    });

    log('starting DynamoDB Local, the S3 emulator and Redis');
    const startDynamo = dynamo.start().then(() => started.push(dynamo));
    const startS3 = s3.start().then(() => started.push(s3));
    const startRedis = redis?.start().then(() => started.push(redis));
    const results = await Promise.allSettled([startDynamo, startS3, startRedis]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    log(`DynamoDB Local on ${dynamo.endpoint}, S3 on ${s3.endpoint}`);

    let dynamoApiEndpoint = dynamo.endpoint;
    if (enforcer !== undefined) {
      resolveEnforcer(
        synthesizedPolicies().then(
          (synthesized) => new IamEnforcer(resolvePolicies(synthesized, names)),
        ),
      );
      const proxy = await startDynamoDbProxy({
        upstream: dynamo.endpoint,
        region,
        enforcer: await enforcer,
        secrets: new Map(
          [credentials, ...allFunctionCredentials()].map((c) => [c.accessKeyId, c.secretAccessKey]),
        ),
        log,
      });
      started.push({ stop: () => proxy.close() });
      dynamoApiEndpoint = proxy.url;
      log(`IAM enforced: each function's calls are checked against its synthesized role policy`);
    }
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
    try {
      for (const schema of TABLES) {
        const outcome = await ensureTable(client, schema, localTableName(schema));
        log(`table ${localTableName(schema)}: ${outcome}`);
      }
    } finally {
      client.destroy();
    }

    const redisUrl = externalRedisUrl ?? (redis as RedisServer).url;
    const env: Record<string, string> = {
      [ENV.tweetsTable]: tableNames.tweets,
      [ENV.metadataTable]: tableNames.metadata,
      [ENV.mediaBucket]: S3_BUCKET_NAME,
      [ENV.redisUrl]: redisUrl,
      [ENV.s3ForcePathStyle]: 'true',
      [ENV.serviceName]: 'chirp',
      // The layer's ffmpeg configuration, built for this machine (local/media-tools.ts).
      [ENV.ffmpegPath]: process.env[ENV.ffmpegPath] ?? localMediaTools.ffmpegPath,
      [ENV.ffprobePath]: process.env[ENV.ffprobePath] ?? localMediaTools.ffprobePath,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoApiEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    };

    return {
      env,
      dataDir,
      region,
      credentials,
      dynamoEndpoint: dynamo.endpoint,
      dynamoApiEndpoint,
      s3Endpoint: s3.endpoint,
      redisUrl,
      tableNames,
      bucket: S3_BUCKET_NAME,
      dynamo,
      redis,
      s3,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
