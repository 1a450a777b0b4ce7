/**
 * The one place SDK and Redis clients are built, once per process (module scope), from
 * configuration only. Endpoints for emulators come from the SDK's own AWS_ENDPOINT_URL_* variables,
 * so this module behaves the same on Lambda and in the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Cluster, type Redis } from 'ioredis';
import { ENV } from '../../app/model';
import { intEnv, optionalEnv, requireEnv } from './config';
import { logger } from './logger';

export const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    // Two quick retries, then surface the failure: a 503 beats a Lambda timeout.
    maxAttempts: 3,
    // Without a request timeout a DynamoDB that accepts connections but does not answer (a
    // restarting node, a brownout) holds the request until the Lambda times out. 3 x 3 s plus
    // backoff stays inside the 10 s function timeout, so the caller gets its 503; 3 s per attempt
    // is far above DynamoDB's latency, yet leaves room for DynamoDB Local on a busy machine.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  }),
  { marshallOptions: { removeUndefinedValues: true } },
);

export const s3 = new S3Client({
  forcePathStyle: optionalEnv(ENV.s3ForcePathStyle) === 'true',
  // Without these the SDK signs a CRC32 of an empty body into presigned PUT URLs and S3 rejects
  // the client's real upload.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

export const tables = {
  get tweets(): string {
    return requireEnv(ENV.tweetsTable);
  },
  get metadata(): string {
    return requireEnv(ENV.metadataTable);
  },
};

export const bucketName = (): string => requireEnv(ENV.mediaBucket);
export const cdnBaseUrl = (): string => requireEnv(ENV.cdnBaseUrl).replace(/\/+$/, '');

/**
 * The cache client type the domain takes. ElastiCache Serverless runs only in cluster mode (one
 * endpoint, but CROSSSLOT for multi-key commands across slots, no SELECT), so the client is an
 * ioredis Cluster everywhere, and the local redis-server is a one-node cluster. `Redis` (one
 * standalone connection) shares the command API; tests use it for a dead or private server.
 */
export type CacheClient = Redis | Cluster;

/**
 * Redis is only a cache: commands time out fast and never queue while disconnected, so a slow or
 * dead Redis costs a request a few milliseconds, not its whole Lambda timeout. Callers treat any
 * Redis error as a cache miss. Exported so tests build clients exactly like this one (pointed at
 * a dead port, or at a private server).
 */
export function createCacheClient(
  redisUrl: string,
  options: { readonly iamUser?: string; readonly commandTimeoutMs?: number } = {},
): Cluster {
  const url = new URL(redisUrl);
  const { iamUser } = options;
  const username = iamUser ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const client = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    lazyConnect: iamUser !== undefined,
    enableOfflineQueue: false,
    // The serverless endpoint is the only node: reads and writes go to it.
    scaleReads: 'master',
    slotsRefreshTimeout: 1000,
    // Keep trying to reconnect in the background, at most every 2 s.
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    // TLS must verify the endpoint's name, so nodes are addressed by the name CLUSTER SLOTS gives.
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: {
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 150,
      connectTimeout: 1000,
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    },
  });
  let lastErrorLog = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastErrorLog > 5000) {
      lastErrorLog = now;
      logger.warn('redis unavailable; serving from DynamoDB', { error: error.message });
    }
  });
  // Node connections report their errors here too; the cluster's error above is what we log.
  client.on('node error', () => undefined);
  if (iamUser !== undefined) {
    void authenticateWithIam(client, iamUser);
  }
  return client;
}

function createRedis(): Cluster {
  const iamUser = optionalEnv(ENV.redisIamUser);
  return createCacheClient(requireEnv(ENV.redisUrl), {
    ...(iamUser !== undefined ? { iamUser } : {}),
    commandTimeoutMs: intEnv(ENV.redisCommandTimeoutMs, 150),
  });
}

/** ElastiCache IAM auth: a SigV4-presigned token, refreshed before its 15-minute expiry. */
async function authenticateWithIam(client: Cluster, userId: string): Promise<void> {
  const { elastiCacheIamToken } = await import('./elasticache-iam');
  const cacheName = requireEnv(ENV.redisCacheName);
  const refresh = async () => {
    // Node connections (new ones, and reconnections after a failover) read these options.
    const options = (client.options.redisOptions ??= {});
    options.password = await elastiCacheIamToken({ cacheName, userId });
  };
  await refresh();
  setInterval(() => {
    refresh().catch((error: unknown) => logger.warn('redis token refresh failed', { error }));
  }, 10 * 60_000).unref();
  await client.connect().catch(() => undefined);
}

/**
 * Functions without cache access run outside the VPC and get no REDIS_URL (see app/model.ts
 * FunctionAccess.cache); they may still import this module, so for them `redis` is a stand-in
 * whose every use throws, which callers treat as a cache miss.
 */
function redisNotConfigured(): CacheClient {
  return new Proxy({} as CacheClient, {
    get(_target, property) {
      // Not a thenable, and inspectable (util.inspect, loggers), but unusable.
      if (typeof property === 'symbol' || property === 'then') return undefined;
      throw new Error(
        `${ENV.redisUrl} is not set: this function has no cache access (${String(property)})`,
      );
    },
  });
}

export const redis: CacheClient =
  optionalEnv(ENV.redisUrl) !== undefined ? createRedis() : redisNotConfigured();
