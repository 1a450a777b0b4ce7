/**
 * The one place clients are built, once per process (module scope), from configuration only.
 * Endpoints for emulators come from the SDK's own AWS_ENDPOINT_URL_* variables, so this module
 * behaves the same on Lambda and in the local stack. Loading it is cheap: the DynamoDB store loads
 * the SDK on first use, and the S3 client lives in s3-client.ts, imported only by the functions
 * that touch S3.
 */
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type Redis, type RedisOptions } from 'ioredis';
import { ENV } from '../../app/model';
import { intEnv, optionalEnv, requireEnv } from './config';
import { lazyDocumentStore, type DocumentStore } from './document-store';
import { logger } from './logger';

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
 * The cache client the domain takes: an ioredis Cluster. ElastiCache Serverless is cluster mode
 * only (AWS: "ElastiCache serverless is only available in a cluster-mode enabled configuration"),
 * one endpoint that owns every slot; a node-based cluster answers MOVED/ASK, which a Cluster
 * client follows. Keys used by one command or script must share a slot; the local redis-server is
 * a one-node cluster, so tests catch any that do not.
 */
export type CacheClient = Cluster;

export interface CacheClientOptions {
  /** ElastiCache IAM auth: the user, and the cache the token is for. */
  readonly iam?: { readonly userId: string; readonly cacheName: string };
  /** Deadline of each command. @default 150 */
  readonly commandTimeoutMs?: number;
  /** Extra TLS options for rediss:// (tests: a private CA). The server's name is always checked. */
  readonly tls?: ConnectionOptions;
}

/** How long one connection attempt may take. */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * Redis is only a cache: commands time out fast and never queue while disconnected, so a slow or
 * dead Redis costs a request a few milliseconds, not its whole Lambda timeout. Callers treat any
 * Redis error as a cache miss. Exported so tests build clients exactly like this one (pointed at
 * a dead port, or at a private server).
 */
export function createCacheClient(redisUrl: string, options: CacheClientOptions = {}): Cluster {
  const url = new URL(redisUrl);
  const { iam } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? 150;
  const username =
    iam?.userId ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const redisOptions: RedisOptions = {
    // A command never waits for a retry: it fails, and the caller serves from DynamoDB.
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // The server name is checked against the certificate (Node's default for a host name).
    ...(url.protocol === 'rediss:' ? { tls: { ...options.tls } } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
  // With IAM auth a token is signed before every connection attempt (valid 15 minutes for new
  // connections), so the first connection waits for it.
  const token =
    iam === undefined ? undefined : iamTokens(iam, redisOptions, () => client.nodes('all'));
  const client: Cluster = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    lazyConnect: token !== undefined,
    enableOfflineQueue: false,
    // The serverless endpoint serves reads and writes alike.
    scaleReads: 'master',
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    // Reconnect in the background, at most every 2 s, with a fresh token.
    clusterRetryStrategy: (attempt) => {
      token?.refresh().catch(tokenFailed);
      return Math.min(attempt * 100, 2000);
    },
    // TLS checks the endpoint's name, so nodes are addressed by the name CLUSTER SLOTS gives.
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions,
  });
  let lastErrorLog = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastErrorLog > 5000) {
      lastErrorLog = now;
      logger.warn('redis unavailable; serving from DynamoDB', {
        error: error.message,
        cause: nodeError(error)?.message,
      });
    }
  });
  // Node connections report their errors here too; the cluster's error above is what we log.
  client.on('node error', () => undefined);
  const first: FirstConnection = {
    settled: firstConnection(client),
    waitMs: commandTimeoutMs,
    done: false,
  };
  void first.settled.then(() => (first.done = true));
  firstConnections.set(client, first);
  // A node connection gets the command deadline once it is ready: opening it (TCP, TLS, AUTH) and
  // the CLUSTER SLOTS sent on it are bounded by connectTimeout and slotsRefreshTimeout instead, so
  // a slow handshake on a busy host is not cut at 150 ms.
  client.on('+node', (node: Redis) => {
    node.once('ready', () => {
      node.options.commandTimeout = commandTimeoutMs;
    });
  });
  if (token !== undefined) {
    token
      .refresh()
      .then(() => client.connect())
      .catch(tokenFailed);
  }
  return client;
}

/** Why the cluster could not reach any node (refused, TLS, auth), when that is known. */
function nodeError(error: Error): Error | undefined {
  return (error as { lastNodeError?: Error }).lastNodeError ?? undefined;
}

/** A connection that cannot be made shows as Redis being down; a token that cannot be signed too. */
function tokenFailed(error: unknown): void {
  logger.warn('redis connection not opened', {
    error: error instanceof Error ? error.message : String(error),
  });
}

/** Settles when the client's first connection is ready or has failed. */
function firstConnection(client: Cluster): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['ready', 'close', 'end']) client.off(event, done);
      resolve();
    };
    for (const event of ['ready', 'close', 'end']) client.once(event, done);
  });
}

interface FirstConnection {
  readonly settled: Promise<void>;
  readonly waitMs: number;
  done: boolean;
}

const firstConnections = new WeakMap<CacheClient, FirstConnection>();

/**
 * Resolves once a command can be sent or fail fast: at once for a client that has been connected
 * (or has given up its first connection); otherwise when its first connection settles, but after
 * at most one command deadline, as the command itself would wait.
 */
export async function connected(client: CacheClient): Promise<void> {
  const first = firstConnections.get(client);
  if (first === undefined || first.done) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    first.settled,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, first.waitMs))),
  ]);
  clearTimeout(timer);
}

/**
 * IAM tokens for new connections: `refresh` signs one (the signer is loaded on first use) and
 * makes it the password of every connection opened from then on. It is called before the first
 * connection and before each reconnect (the retry strategy), and signing does no I/O, so it is
 * done long before the reconnect delay ends; a frozen Lambda that thaws with an expired token
 * therefore reconnects with a fresh one.
 */
function iamTokens(
  iam: NonNullable<CacheClientOptions['iam']>,
  redisOptions: RedisOptions,
  nodes: () => readonly Redis[],
): { refresh(): Promise<void> } {
  return {
    async refresh() {
      const { elastiCacheIamToken } = await import('./elasticache-iam');
      const token = await elastiCacheIamToken(iam);
      // New node connections copy redisOptions; open ones keep theirs for the connections they
      // duplicate (a slots refresh).
      redisOptions.password = token;
      for (const node of nodes()) node.options.password = token;
    },
  };
}

function createRedis(): Cluster {
  const iamUser = optionalEnv(ENV.redisIamUser);
  return createCacheClient(requireEnv(ENV.redisUrl), {
    ...(iamUser !== undefined
      ? { iam: { userId: iamUser, cacheName: requireEnv(ENV.redisCacheName) } }
      : {}),
    commandTimeoutMs: intEnv(ENV.redisCommandTimeoutMs, 150),
  });
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
