/**
 * The one place clients are built, once per process (module scope), from configuration only.
 * Endpoints for emulators come from the SDK's own AWS_ENDPOINT_URL_* variables, so this module
 * behaves the same on Lambda and in the local stack. Loading it is cheap: the DynamoDB store loads
 * the SDK on first use, and the S3 client lives in s3-client.ts, imported only by the functions
 * that touch S3.
 */
import { ENV } from '../../app/model';
import { intEnv, optionalEnv, requireEnv } from './config';
import { lazyDocumentStore, type DocumentStore } from './document-store';
import { elastiCacheIamToken } from './elasticache-iam';
import { logger } from './logger';
import { RedisClient } from './redis-client';

export const dynamo: DocumentStore = lazyDocumentStore();

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
 * The cache client the domain takes: one connection to one endpoint (redis-client.ts says why).
 * ElastiCache Serverless runs in cluster mode, so keys used by one command or script must share a
 * slot; the local redis-server is a one-node cluster, so tests catch any that do not.
 */
export type CacheClient = RedisClient;

/**
 * Redis is only a cache: commands time out fast and never queue while disconnected, so a slow or
 * dead Redis costs a request a few milliseconds, not its whole Lambda timeout. Callers treat any
 * Redis error as a cache miss. Exported so tests build clients exactly like this one (pointed at
 * a dead port, or at a private server).
 */
export function createCacheClient(
  redisUrl: string,
  options: { readonly iamUser?: string; readonly commandTimeoutMs?: number } = {},
): RedisClient {
  const url = new URL(redisUrl);
  const { iamUser } = options;
  const username = iamUser ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const client = new RedisClient({
    host: url.hostname,
    port: Number(url.port || 6379),
    tls: url.protocol === 'rediss:',
    // The client's defaults otherwise: 150 ms per command, 1 s to connect, and reconnects in
    // the background at most every 2 s.
    commandTimeoutMs: options.commandTimeoutMs,
    ...(username !== undefined ? { username } : {}),
    // With IAM auth, a SigV4 token made for each new connection (valid 15 minutes for new ones).
    ...(iamUser !== undefined
      ? { password: iamToken(iamUser) }
      : password !== undefined
        ? { password }
        : {}),
  });
  let lastErrorLog = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastErrorLog > 5000) {
      lastErrorLog = now;
      logger.warn('redis unavailable; serving from DynamoDB', { error: error.message });
    }
  });
  return client;
}

function createRedis(): RedisClient {
  const iamUser = optionalEnv(ENV.redisIamUser);
  return createCacheClient(requireEnv(ENV.redisUrl), {
    ...(iamUser !== undefined ? { iamUser } : {}),
    commandTimeoutMs: intEnv(ENV.redisCommandTimeoutMs, 150),
  });
}

/** ElastiCache IAM auth: a SigV4-presigned `connect` token for this cache and user. */
function iamToken(userId: string): () => string {
  const cacheName = requireEnv(ENV.redisCacheName);
  return () => elastiCacheIamToken({ cacheName, userId });
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
