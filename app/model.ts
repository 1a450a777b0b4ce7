/**
 * The app model: the single declaration of Chirp's routes, functions, tables, bucket layout and
 * configuration names. The CDK constructs (lib/) and the local runtime (local/) both read it, and
 * handlers read the names from it, so AWS and the local stack cannot drift apart.
 *
 * It imports nothing: no CDK, no SDK, nothing of ours.
 */

/** Environment variables the functions read. Values come from the CDK stack or the local runtime. */
export const ENV = {
  /** Name of the tweets table. */
  tweetsTable: 'TWEETS_TABLE',
  /** Name of the metadata table (media records, follow graph, idempotency records). */
  metadataTable: 'METADATA_TABLE',
  /** Name of the media bucket. */
  mediaBucket: 'MEDIA_BUCKET',
  /** Base URL of the CDN that serves the processed prefix, e.g. https://d123.cloudfront.net */
  cdnBaseUrl: 'CDN_BASE_URL',
  /** redis:// or rediss:// URL of the cache. */
  redisUrl: 'REDIS_URL',
  /** Optional: ElastiCache user id for IAM authentication. Unset means no AUTH. */
  redisIamUser: 'REDIS_IAM_USER',
  /** Optional: ElastiCache cache name, needed with REDIS_IAM_USER to sign the IAM token. */
  redisCacheName: 'REDIS_CACHE_NAME',
  /** Optional: per-command Redis timeout in ms (default 150). */
  redisCommandTimeoutMs: 'REDIS_COMMAND_TIMEOUT_MS',
  /** Optional: 'true' makes the S3 client use path-style URLs (emulators). */
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  /** Optional: authors with more followers than this are merged at read time instead of fanned out. */
  fanoutMaxFollowers: 'FANOUT_MAX_FOLLOWERS',
  /**
   * Optional: timelines one fanout invocation writes per second, at most (default
   * fanoutDeliveriesPerSecond() of the default cache cap); 0 writes as fast as the cache answers.
   */
  fanoutDeliveriesPerSecond: 'FANOUT_DELIVERIES_PER_SECOND',
  /** Optional: home timeline depth, at most LIMITS.timelineMaxEntries (a smaller one lets a short soak trim). */
  timelineMaxEntries: 'TIMELINE_MAX_ENTRIES',
  /** Optional: ffmpeg binary path (default: the bundled layer binary, else `ffmpeg` on PATH). */
  ffmpegPath: 'FFMPEG_PATH',
  /** Optional: ffprobe binary path. */
  ffprobePath: 'FFPROBE_PATH',
  /** Optional: longest accepted video, in seconds (default 140). */
  maxVideoSeconds: 'MAX_VIDEO_SECONDS',
  /** Powertools Logger service name. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /**
   * Optional: per-caller rate limits overriding LIMITS.rateLimits, e.g.
   * `read=600/60,write=60/60,media_init=30/1800` (requests per period in seconds).
   */
  rateLimits: 'RATE_LIMITS',
  /** Optional: most followees per user (default LIMITS.maxFolloweesDefault). */
  maxFollowees: 'MAX_FOLLOWEES',
  /** Optional: most media per user waiting for their upload (default LIMITS.pendingUploadsMaxDefault). */
  pendingUploadsMax: 'PENDING_UPLOADS_MAX',
  /** Optional: bytes a user may declare in media inits per UTC day (default LIMITS.uploadBytesPerDayDefault). */
  uploadBytesPerDay: 'UPLOAD_BYTES_PER_DAY',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * Key prefixes inside the media bucket. Only `processed` is ever served by the CDN, and it holds
 * only attached media (a tweet's, or an avatar): the transcoder writes to `staged`, the media
 * publisher copies a media's variants to `processed` once it is ready and attached, and deletes
 * them there when it is detached (tweet deleted, avatar replaced; docs/media.md, "What the CDN
 * serves").
 */
export const MEDIA_PREFIXES = {
  /** Client uploads land here via presigned PUT; never served. Key: uploads/{media_id} */
  uploads: 'uploads/',
  /**
   * Transcoder output, never served: staged/{media_id}/{digest}/{variant}. Expired by a bucket
   * lifecycle rule after MEDIA_SERVING.stagedExpirationDays (orphans of dead runs included).
   */
  staged: 'staged/',
  /** Published copies of staged variants, same key after the prefix. Served by the CDN. */
  processed: 'media/',
} as const;

/**
 * The security headers every CloudFront distribution sends (its response headers policy, each
 * with override), and the local CDN too. Declared once: lib/constructs/security-headers.ts builds
 * the policy from it, local/cdn.ts sends securityHeaderValues().
 */
export const SECURITY_HEADERS = {
  /** Two years, as HSTS preload lists require at least one. */
  hstsMaxAgeSeconds: 730 * 24 * 60 * 60,
  frameOptions: 'DENY',
  referrerPolicy: 'strict-origin-when-cross-origin',
  /** User media is never a document: no scripts, no embedding, a sandbox. */
  mediaContentSecurityPolicy: "default-src 'none'; sandbox",
} as const;

/** The headers as they go on the wire, with a distribution's CSP. */
export function securityHeaderValues(contentSecurityPolicy: string): Record<string, string> {
  return {
    'strict-transport-security': `max-age=${SECURITY_HEADERS.hstsMaxAgeSeconds}; includeSubDomains; preload`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': SECURITY_HEADERS.frameOptions,
    'referrer-policy': SECURITY_HEADERS.referrerPolicy,
    'content-security-policy': contentSecurityPolicy,
  };
}

/**
 * What the CDN serves and for how long (lib/constructs/media-cdn.ts and local/cdn.ts read it).
 * Variants are immutable, so browsers may keep them a year; CloudFront keeps an object at most
 * `cdnMaxTtlSeconds`, which bounds how long a deleted tweet's media is still served by an edge
 * that cached it (the origin copy is gone within seconds of the delete). An invalidation per
 * delete was rejected: CloudFront allows 15 wildcard invalidations in progress per distribution
 * and charges 0.005 USD a path beyond 1,000 a month (docs/media.md).
 */
export const MEDIA_SERVING = {
  cdnMaxTtlSeconds: 60 * 60,
  /** Browsers (private caches) keep a variant this long: its URL never changes content. */
  browserMaxAgeSeconds: 365 * 24 * 60 * 60,
  /**
   * CloudFront caches a 403 (not yet published, or deleted) this long: 0, so media published a
   * moment after a viewer asked is served at once.
   */
  cdnErrorTtlSeconds: 0,
  /**
   * Staged variants are needed only until they are published, which is within the unattached
   * window (LIMITS.unattachedMediaTtlSeconds) plus the publisher's retries; then they expire.
   */
  stagedExpirationDays: 3,
} as const;

/** Cache-Control of every variant: browsers a year, shared caches (CloudFront) the CDN bound. */
export const VARIANT_CACHE_CONTROL = `public, max-age=${MEDIA_SERVING.browserMaxAgeSeconds}, s-maxage=${MEDIA_SERVING.cdnMaxTtlSeconds}, immutable`;

/** Product limits shared by handlers, the transcoder and the infrastructure. */
export const LIMITS = {
  tweetTextMaxCodePoints: 280,
  maxMediaPerTweet: 4,
  altTextMaxChars: 1000,
  idempotencyKeyMaxChars: 128,
  idempotencyTtlSeconds: 24 * 60 * 60,
  /** Media not attached to a tweet within this time is removed. */
  unattachedMediaTtlSeconds: 24 * 60 * 60,
  uploadUrlExpiresSeconds: 15 * 60,
  /**
   * Uploads above this size go to S3 in parts (multipart upload), so a network hiccup costs one
   * part, not the whole file. Below it one PUT is as fast and needs one URL (docs/media.md).
   */
  multipartThresholdBytes: 32 * 1024 * 1024,
  /**
   * Size of every part but the last. S3's minimum is 5 MiB; 8 MiB is 64 parts (64 URLs, ~40 KB of
   * JSON) for the largest video, and ~34 s of a 2 Mbit/s phone uplink, the most a retry repeats.
   */
  multipartPartBytes: 8 * 1024 * 1024,
  /** Part URLs live longer than a single PUT's: 512 MiB at 2 Mbit/s takes ~35 minutes. */
  multipartUrlExpiresSeconds: 60 * 60,
  timelineMaxEntries: 800,
  pageDefaultLimit: 20,
  pageMaxLimit: 100,
  fanoutMaxFollowersDefault: 10_000,
  /**
   * Per-caller request budgets by route class (docs/operations.md defends them against X's and
   * Mastodon's published limits). A caller may spend a whole budget at once, then one request per
   * period / limit (GCRA, a token bucket without a refill timer).
   */
  rateLimits: {
    read: { limit: 600, periodSeconds: 60 },
    write: { limit: 60, periodSeconds: 60 },
    media_init: { limit: 30, periodSeconds: 30 * 60 },
  },
  /** X lets an account follow 5,000 until it has more followers; Mastodon allows 7,500. */
  maxFolloweesDefault: 5000,
  /** Media whose upload URL is still valid and unused, per user. */
  pendingUploadsMaxDefault: 20,
  /** Bytes declared in media inits per user per UTC day (the signed Content-Length holds them to it). */
  uploadBytesPerDayDefault: 2 * 1024 * 1024 * 1024,
  /** Profile text, in code points after NFC (X's limits: 50 for the name, 160 for the bio). */
  displayNameMaxCodePoints: 50,
  bioMaxCodePoints: 160,
  /** Upload types an avatar may be: still images (the transcoder's square `thumb` is the avatar). */
  avatarMediaTypes: ['image/jpeg', 'image/png', 'image/webp'] as readonly string[],
  /** Accepted upload types and their maximum sizes in bytes. */
  mediaTypes: {
    'image/jpeg': 16 * 1024 * 1024,
    'image/png': 16 * 1024 * 1024,
    'image/webp': 16 * 1024 * 1024,
    'image/gif': 15 * 1024 * 1024,
    'video/mp4': 512 * 1024 * 1024,
    'video/quicktime': 512 * 1024 * 1024,
  } as Readonly<Record<string, number>>,
} as const;

/** Which per-caller budget a route spends (LIMITS.rateLimits). */
export type RateLimitClass = keyof typeof LIMITS.rateLimits;

/**
 * Cache sizing (docs/operations.md, "Cache sizing"). ElastiCache Serverless bills a simple command
 * 1 ECPU per KB transferred, and a script the higher of its KB and its vCPU time relative to a
 * simple GET. One fanout delivery is one timeline script call, measured against redis-server 7
 * (bench/fanout-ecpu.ts): 175 bytes both ways (1 ECPU by bytes), and up to 1.3x the server CPU
 * of a GET sent on its own, the way AWS bills a GET (1 ECPU, pipelined or not). Against a
 * pipelined GET's CPU it would be 28-42x, an upper bound no billing baseline matches. Sized at
 * 4: the measured 1.3, with a threefold margin for what a local server cannot show.
 */
export const CACHE_SIZING = {
  ecpuPerFanoutDelivery: 4,
  /**
   * A fanout to LIMITS.fanoutMaxFollowersDefault (10,000) timelines should reach every follower
   * within the 2 s the product promises: 5,000 deliveries/s, ~20,000 ECPU/s, with half the cache
   * left for reads and other shards' fanouts: 40,000 ECPU/s. A ceiling, not a charge
   * (ElastiCache bills what is used).
   */
  maxEcpuPerSecondDefault: 40_000,
  /** Share of the cap one fanout invocation may spend; the rest serves reads and other shards. */
  fanoutShareOfCap: 0.5,
} as const;

/** Deliveries per second one fanout invocation keeps to, for a cache capped at `maxEcpuPerSecond`. */
export function fanoutDeliveriesPerSecond(maxEcpuPerSecond: number): number {
  return Math.floor(
    (CACHE_SIZING.fanoutShareOfCap * maxEcpuPerSecond) / CACHE_SIZING.ecpuPerFanoutDelivery,
  );
}

export const USER_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** A handle: 3-30 of [A-Za-z0-9_], unique case-insensitively (its HANDLE# item is lower-case). */
export const HANDLE_PATTERN = /^[A-Za-z0-9_]{3,30}$/;

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalIndexSchema {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** ALL, KEYS_ONLY, or the listed non-key attributes. */
  readonly projection: 'ALL' | 'KEYS_ONLY' | readonly string[];
}

export interface TableSchema {
  /** Stable logical name, used for construct ids and local table names. */
  readonly id: string;
  /** Environment variable that carries the physical table name. */
  readonly envVar: EnvName;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexSchema[];
  /** Stream view, when a consumer needs the change feed. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY';
  /** Attribute holding an epoch-seconds expiry. */
  readonly ttlAttribute?: string;
}

/**
 * Tweets: one item per tweet, partitioned by author so a user's history is one Query, newest first
 * (ScanIndexForward=false) because tweet ids sort by creation time.
 *
 * GET /v1/tweets/{tweet_id} carries only the id, so the id encodes its owner:
 * `{26-char ULID}-{user_id}`. The handler splits it and does one strongly consistent GetItem.
 * A GSI on tweet_id would also be one lookup, but it is eventually consistent (a tweet could 404
 * just after its 201) and doubles the write cost of every tweet.
 */
export const TWEETS_TABLE: TableSchema = {
  id: 'Tweets',
  envVar: ENV.tweetsTable,
  partitionKey: { name: 'user_id', type: 'S' },
  sortKey: { name: 'tweet_id', type: 'S' },
  globalIndexes: [],
  stream: 'NEW_AND_OLD_IMAGES',
};

/**
 * Metadata: everything else the API needs, in one table with generic keys (pk, sk):
 *
 * | item              | pk                           | sk                 | notes |
 * |-------------------|------------------------------|--------------------|-------|
 * | media record      | MEDIA#{media_id}             | MEDIA              | expires_at (TTL) until attached; gsi1 while processing |
 * | user profile      | USER#{user_id}               | PROFILE            | follower_count, following_count; handle, display_name, bio, avatar_media_id from the user's first call (any route) |
 * | handle claim      | HANDLE#{lower-case handle}   | HANDLE             | user_id: who holds the handle |
 * | follow edge (out) | USER#{follower}              | FOLLOWS#{followee} | "followees of X" for timeline rebuilds |
 * | follow edge (in)  | USER#{followee}              | FOLLOWER#{follower}| "followers of X" for fanout |
 * | idempotency       | IDEMPOTENCY#{user}#{key}     | IDEMPOTENCY        | request_hash, tweet_id, expires_at (TTL 24 h) |
 * | upload quota      | QUOTA#{user_id}              | UPLOAD_QUOTA       | pending (media id -> URL expiry), bytes_day, bytes_used |
 *
 * Both follow edges and the profile counters change in one transaction, so the two directions
 * never disagree. A handle claim is written (attribute_not_exists) in the same transaction as the
 * profile that names it, and a released handle's claim is deleted in it, so two users can never
 * hold one handle. Both GSIs are sparse, so the media sweeper finds its work with one Query each:
 * - gsi1: only media in `processing` carry gsi1pk=PROCESSING, gsi1sk={processing started_at};
 * - gsi2: only unattached media carry gsi2pk=UNATTACHED, gsi2sk={created_at}; attaching removes
 *   them. TTL (expires_at) is the backstop, since DynamoDB may take days to act on it.
 */
export const METADATA_TABLE: TableSchema = {
  id: 'Metadata',
  envVar: ENV.metadataTable,
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'KEYS_ONLY',
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
      projection: 'KEYS_ONLY',
    },
  ],
  stream: 'NEW_AND_OLD_IMAGES',
  ttlAttribute: 'expires_at',
};

export const TABLES = [TWEETS_TABLE, METADATA_TABLE] as const;

/** Key builders for the metadata table, shared by every reader and writer. */
export const METADATA_KEYS = {
  /** A user's partition: their profile and their follow edges. */
  userPartition: (userId: string) => `USER#${userId}`,
  media: (mediaId: string) => ({ pk: `MEDIA#${mediaId}`, sk: 'MEDIA' }),
  profile: (userId: string) => ({ pk: METADATA_KEYS.userPartition(userId), sk: 'PROFILE' }),
  follows: (follower: string, followee: string) => ({
    pk: METADATA_KEYS.userPartition(follower),
    sk: `FOLLOWS#${followee}`,
  }),
  follower: (followee: string, follower: string) => ({
    pk: METADATA_KEYS.userPartition(followee),
    sk: `FOLLOWER#${follower}`,
  }),
  idempotency: (userId: string, key: string) => ({
    pk: `IDEMPOTENCY#${userId}#${key}`,
    sk: 'IDEMPOTENCY',
  }),
  /** The claim on a handle, keyed case-insensitively. */
  handle: (handle: string) => ({ pk: `HANDLE#${handle.toLowerCase()}`, sk: 'HANDLE' }),
  /** Its own partition, so InitMedia's read of it is granted without reading profiles. */
  uploadQuota: (userId: string) => ({ pk: `QUOTA#${userId}`, sk: 'UPLOAD_QUOTA' }),
  followsPrefix: 'FOLLOWS#',
  followerPrefix: 'FOLLOWER#',
  processingIndex: { name: 'gsi1', pk: 'PROCESSING' },
  unattachedIndex: { name: 'gsi2', pk: 'UNATTACHED' },
} as const;

// ---------------------------------------------------------------------------------------------
// Functions and routes
// ---------------------------------------------------------------------------------------------

/** DynamoDB item actions a code path may need beyond its table-wide access level. */
export type ItemAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem';

/**
 * One narrow DynamoDB grant: these actions on one table, optionally only on items whose partition
 * key starts with a prefix (IAM's dynamodb:LeadingKeys). Each names the code path that needs it.
 */
export interface ItemGrant {
  readonly table: 'tweetsTable' | 'metadataTable';
  readonly actions: readonly ItemAction[];
  readonly partitionKeyPrefix?: string;
  /** The code path that makes these calls (why the grant exists). */
  readonly usedBy: string;
}

/** What a function may do. The CDK maps each to L2 grant* calls; nothing else is granted. */
export interface FunctionAccess {
  readonly tweetsTable?: 'read' | 'write' | 'readWrite';
  readonly metadataTable?: 'read' | 'write' | 'readWrite';
  /**
   * Presign PUTs under uploads/ (the function itself never touches the bytes); s3:PutObject also
   * authorizes CreateMultipartUpload, UploadPart and CompleteMultipartUpload there.
   */
  readonly presignUploads?: boolean;
  /** List the parts of multipart uploads under uploads/ (s3:ListMultipartUploadParts). */
  readonly listUploadParts?: boolean;
  /** Read uploads/ and write staged/ (transcoder). */
  readonly processMedia?: boolean;
  /** Copy staged/ to media/ and delete from media/ (the media publisher). */
  readonly publishMedia?: boolean;
  /**
   * Delete objects under every media prefix and abort multipart uploads under uploads/ (cleanup).
   */
  readonly deleteMedia?: boolean;
  /**
   * List the bucket, only under the staged and processed prefixes (s3:ListBucket with s3:prefix
   * staged/* and media/*).
   */
  readonly listMediaObjects?: boolean;
  /** Narrow grants beyond the table-wide levels above. */
  readonly itemGrants?: readonly ItemGrant[];
  /** Connect to the cache. */
  readonly cache?: boolean;
}

export interface FunctionSpec {
  /** Stable id: construct id and local function name. */
  readonly id: string;
  /** Handler entry, relative to the repository root. It exports `handler`. */
  readonly entry: string;
  readonly access: FunctionAccess;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec extends FunctionSpec {
  readonly method: HttpMethod;
  /** API Gateway path, with {param} placeholders. */
  readonly path: string;
  /** The caller's budget this route spends; the limiter keeps it in the cache. */
  readonly rateLimit: RateLimitClass;
}

/**
 * What every route needs to ensure its caller exists (lambdas/http/limit.ts: the first call of a
 * new user creates their profile and claims a generated handle), beyond its table-wide access.
 */
function ensuresCaller(access: FunctionAccess): FunctionAccess {
  const usedBy = 'users/store.ts (ensureProfile): the caller exists from their first call';
  const level = access.metadataTable;
  const needed: ItemGrant[] = [];
  if (level !== 'read' && level !== 'readWrite') {
    needed.push({
      table: 'metadataTable',
      actions: ['GetItem'],
      partitionKeyPrefix: 'USER#',
      usedBy,
    });
  }
  if (level !== 'write' && level !== 'readWrite') {
    needed.push(
      { table: 'metadataTable', actions: ['UpdateItem'], partitionKeyPrefix: 'USER#', usedBy },
      { table: 'metadataTable', actions: ['PutItem'], partitionKeyPrefix: 'HANDLE#', usedBy },
    );
  }
  const held = access.itemGrants ?? [];
  const missing = needed.filter(
    (grant) =>
      !held.some(
        (h) =>
          h.table === grant.table &&
          h.partitionKeyPrefix === grant.partitionKeyPrefix &&
          grant.actions.every((action) => h.actions.includes(action)),
      ),
  );
  return missing.length === 0 ? access : { ...access, itemGrants: [...held, ...missing] };
}

/**
 * Every HTTP route. Each requires the JWT authorizer; the caller is the token's `sub`. Every route
 * has cache access, for the per-caller rate limit (lambdas/http/limit.ts), and ensures its
 * caller's user record exists (ensuresCaller).
 */
const DECLARED_ROUTES: readonly RouteSpec[] = [
  {
    id: 'InitMedia',
    method: 'POST',
    path: '/v1/media/init',
    entry: 'lambdas/http/init-media.ts',
    access: {
      metadataTable: 'write',
      presignUploads: true,
      cache: true,
      itemGrants: [
        {
          table: 'metadataTable',
          actions: ['GetItem'],
          partitionKeyPrefix: 'MEDIA#',
          usedBy: 'media/store.ts insertMedia: after a retried put, is the stored record ours?',
        },
        {
          table: 'metadataTable',
          actions: ['GetItem'],
          partitionKeyPrefix: 'QUOTA#',
          usedBy:
            'media/store-quota.ts readQuota (reserveUpload): the quota when its update is refused',
        },
      ],
    },
    rateLimit: 'media_init',
  },
  {
    id: 'CompleteMediaUpload',
    method: 'POST',
    path: '/v1/media/{media_id}/complete',
    entry: 'lambdas/http/complete-media-upload.ts',
    access: {
      metadataTable: 'read',
      presignUploads: true,
      listUploadParts: true,
      cache: true,
      itemGrants: [
        {
          table: 'metadataTable',
          actions: ['UpdateItem'],
          partitionKeyPrefix: 'MEDIA#',
          usedBy: 'media/store.ts markUploadCompleted: records that the parts were assembled',
        },
      ],
    },
    rateLimit: 'write',
  },
  {
    id: 'GetMedia',
    method: 'GET',
    path: '/v1/media/{media_id}',
    entry: 'lambdas/http/get-media.ts',
    access: { metadataTable: 'read', cache: true },
    rateLimit: 'read',
  },
  {
    id: 'CreateTweet',
    method: 'POST',
    path: '/v1/tweets',
    entry: 'lambdas/http/create-tweet.ts',
    access: {
      tweetsTable: 'write',
      metadataTable: 'readWrite',
      cache: true,
      itemGrants: [
        {
          table: 'tweetsTable',
          actions: ['BatchGetItem'],
          usedBy: 'tweets/store.ts readTweet (replayIdempotent): a replay that misses the cache',
        },
      ],
    },
    rateLimit: 'write',
  },
  {
    id: 'GetTweet',
    method: 'GET',
    path: '/v1/tweets/{tweet_id}',
    entry: 'lambdas/http/get-tweet.ts',
    access: { tweetsTable: 'read', metadataTable: 'read', cache: true },
    rateLimit: 'read',
  },
  {
    id: 'DeleteTweet',
    method: 'DELETE',
    path: '/v1/tweets/{tweet_id}',
    entry: 'lambdas/http/delete-tweet.ts',
    access: { tweetsTable: 'readWrite', metadataTable: 'readWrite', cache: true },
    rateLimit: 'write',
  },
  {
    id: 'GetTimeline',
    method: 'GET',
    path: '/v1/timeline',
    entry: 'lambdas/http/get-timeline.ts',
    access: {
      tweetsTable: 'read',
      metadataTable: 'read',
      cache: true,
      itemGrants: [
        {
          table: 'metadataTable',
          actions: ['UpdateItem'],
          partitionKeyPrefix: 'USER#',
          usedBy:
            'users/store.ts clearTimelineStale: clears the mark on the profile after a rebuild',
        },
      ],
    },
    rateLimit: 'read',
  },
  {
    id: 'ListUserTweets',
    method: 'GET',
    path: '/v1/users/{user_id}/tweets',
    entry: 'lambdas/http/list-user-tweets.ts',
    access: { tweetsTable: 'read', metadataTable: 'read', cache: true },
    rateLimit: 'read',
  },
  {
    id: 'FollowUser',
    method: 'PUT',
    path: '/v1/users/{user_id}/follow',
    entry: 'lambdas/http/follow-user.ts',
    access: { tweetsTable: 'read', metadataTable: 'readWrite', cache: true },
    rateLimit: 'write',
  },
  {
    id: 'GetMe',
    method: 'GET',
    path: '/v1/me',
    entry: 'lambdas/http/get-me.ts',
    access: { metadataTable: 'read', cache: true },
    rateLimit: 'read',
  },
  {
    id: 'UpdateProfile',
    method: 'PUT',
    path: '/v1/me/profile',
    entry: 'lambdas/http/update-profile.ts',
    // Reads the caller's newest tweet ids, to drop their cached JSON (it shows the author).
    access: { tweetsTable: 'read', metadataTable: 'readWrite', cache: true },
    rateLimit: 'write',
  },
  {
    id: 'GetProfile',
    method: 'GET',
    path: '/v1/profiles/{handle}',
    entry: 'lambdas/http/get-profile.ts',
    access: { metadataTable: 'read', cache: true },
    rateLimit: 'read',
  },
  {
    id: 'UnfollowUser',
    method: 'DELETE',
    path: '/v1/users/{user_id}/follow',
    entry: 'lambdas/http/unfollow-user.ts',
    access: { metadataTable: 'readWrite', cache: true },
    rateLimit: 'write',
  },
];

export const ROUTES: readonly RouteSpec[] = DECLARED_ROUTES.map((route) => ({
  ...route,
  access: ensuresCaller(route.access),
}));

/**
 * A table stream's event source mapping: its CDK construct (lib/constructs/stream-consumer.ts) and
 * the local stream pump (local/stream-pump.ts) both read it.
 */
export interface StreamSourceSpec {
  /** Records per invocation, at most. */
  readonly batchSize: number;
  /**
   * How long the mapping gathers records before it invokes (until the batch is full); 0, Lambda's
   * default, invokes as soon as a poll returns records.
   */
  readonly maxBatchingWindowSeconds: number;
}

/** A function fed by a table's stream. */
export interface StreamConsumerSpec extends FunctionSpec {
  readonly streamSource: StreamSourceSpec;
}

/** Event-driven functions. */
export const FANOUT_FUNCTION: StreamConsumerSpec = {
  id: 'Fanout',
  entry: 'lambdas/events/fanout.ts',
  access: { metadataTable: 'read', cache: true },
  memoryMb: 1024,
  timeoutSeconds: 60,
  // No batching window: a tweet reaches timelines a poll (a quarter second) after it is written,
  // not up to a second later (follower_visible_p99, bench/README.md). Batches still fill under load,
  // since a shard's next batch waits for the invocation in progress.
  streamSource: { batchSize: 100, maxBatchingWindowSeconds: 0 },
};

/** Memory that buys the transcoder two full vCPUs, for accounts without the 3008 MB cap. */
export const TRANSCODER_TWO_VCPU_MEMORY_MB = 3538;

/**
 * Reserved concurrency of the transcoder by default: a burst of uploads can take at most this
 * many concurrent executions from the account, so the API keeps the rest (Lambda then queues the
 * S3 events and retries them for up to 6 hours). Lambda must keep 10 unreserved, so an account
 * whose quota is 10 (some new accounts) deploys with -c transcoderReservedConcurrency=0 (none).
 */
export const TRANSCODER_RESERVED_CONCURRENCY = 20;

export const TRANSCODER_FUNCTION: FunctionSpec = {
  id: 'Transcoder',
  entry: 'lambdas/events/transcoder.ts',
  access: { metadataTable: 'readWrite', processMedia: true, cache: true },
  // Measured peak RSS is ~155 MiB for a 12 MP image and ~300 MiB for video (docs/media.md), so
  // memory is not the limit: CPU is (one vCPU per 1769 MB). The default is 3008 MB, the most many
  // new accounts may configure (a higher value rolls the whole stack back there): ~1.7 vCPUs.
  // Accounts without that cap can deploy with -c transcoderMemoryMb=3538 for two full vCPUs,
  // which sharp's encoders and x264 use (docs/deploy.md).
  memoryMb: 3008,
  timeoutSeconds: 300,
};

/**
 * glibc malloc settings for the transcoder's process (declared here, like its function spec, since
 * both its construct and its code read them): its Lambda environment sets them (glibc
 * reads them at process start) and its ffmpeg runner leaves them out. libvips zeroes every pixel
 * buffer it allocates, and with glibc's defaults each image's buffers come from up to 16
 * per-thread arenas that are trimmed back to the OS after use, so every image paid ~18,000 fresh
 * page faults: half of the image path's CPU on the benchmark machine. Two arenas that keep up to 256 MiB of freed
 * memory, with allocations below 32 MiB served from them, reuse the pages of the previous image
 * (~5,000 faults; peak RSS slightly lower, from fewer arenas). Measured in docs/media.md.
 */
export const TRANSCODER_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024),
};

/**
 * Runs on a schedule: marks media stuck in processing as failed, and removes media (record and
 * objects) never attached to a tweet within LIMITS.unattachedMediaTtlSeconds.
 */
export const MEDIA_SWEEPER_FUNCTION: FunctionSpec & { readonly scheduleMinutes: number } = {
  id: 'MediaSweeper',
  entry: 'lambdas/events/media-sweeper.ts',
  // Lists staged/{id}/ and media/{id}/ to find a media's variants before deleting them.
  access: { metadataTable: 'readWrite', deleteMedia: true, listMediaObjects: true, cache: true },
  timeoutSeconds: 300,
  scheduleMinutes: 15,
};

/**
 * The metadata table's stream, media items only (an event filter on pk MEDIA#): copies a media's
 * staged variants to the served prefix when it is ready and attached to a tweet (in either
 * order), then marks it published; deletes the served copies when its tweet is deleted. Stream
 * order per item means a publish never overtakes the detach that follows it.
 */
export const MEDIA_PUBLISHER_FUNCTION: StreamConsumerSpec & {
  /** Its event source: the metadata table's stream, only items whose pk has this prefix. */
  readonly streamPartitionKeyPrefix: string;
} = {
  id: 'MediaPublisher',
  entry: 'lambdas/events/media-publisher.ts',
  access: {
    publishMedia: true,
    itemGrants: [
      {
        table: 'metadataTable',
        actions: ['UpdateItem'],
        partitionKeyPrefix: 'MEDIA#',
        usedBy: 'media/store.ts markPublished (publisher): records that the variants are served',
      },
    ],
  },
  timeoutSeconds: 60,
  streamPartitionKeyPrefix: 'MEDIA#',
  streamSource: { batchSize: 10, maxBatchingWindowSeconds: 0 },
};

export const EVENT_FUNCTIONS: readonly FunctionSpec[] = [
  FANOUT_FUNCTION,
  TRANSCODER_FUNCTION,
  MEDIA_SWEEPER_FUNCTION,
  MEDIA_PUBLISHER_FUNCTION,
];

// ---------------------------------------------------------------------------------------------
// CORS: what a browser app on another origin may do. The CDK constructs (lib/) and the local
// emulators (local/) read these; only the allowed origins differ (deployment configuration).
// ---------------------------------------------------------------------------------------------

/** The HTTP API's corsPreflight configuration (API Gateway answers preflights before the authorizer). */
export const API_CORS = {
  allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
  /** `*`: every method a route has. */
  allowMethods: ['*'],
  /** Readable by browser scripts beyond the CORS-safelisted response headers. */
  exposeHeaders: ['retry-after'],
  maxAgeSeconds: 24 * 60 * 60,
} as const;

/** The media bucket's CORS rule: browsers PUT to presigned upload URLs. */
export const UPLOAD_CORS = {
  allowedMethods: ['PUT'],
  // Content-Type and If-None-Match (one-shot URLs) are signed into the URL; x-amz-* covers SDK
  // checksum headers.
  allowedHeaders: ['content-type', 'if-none-match', 'x-amz-*'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 60 * 60,
} as const;

/** The CDN's response headers policy CORS behaviour: media read by fetch() or <img crossorigin>. */
export const MEDIA_CDN_CORS = {
  allowHeaders: ['*'],
  allowMethods: ['GET', 'HEAD'],
  allowCredentials: false,
  maxAgeSeconds: 24 * 60 * 60,
  /** CloudFront's headers replace any CORS headers from the origin. */
  originOverride: true,
} as const;

// ---------------------------------------------------------------------------------------------
// Application metrics
// ---------------------------------------------------------------------------------------------

/**
 * What only the application knows, emitted with Powertools Metrics as CloudWatch embedded metric
 * format (a log line, no API call). Every metric carries the `service` dimension, the Powertools
 * service name, which on AWS is the function's id (so a route's metrics are its route id's); media
 * metrics add `media_kind` (image, video). The dashboard and alarms read these.
 */
export const METRICS = {
  namespace: 'Chirp',
  /** Dimension names beyond `service`. */
  dimensions: { mediaKind: 'media_kind' },
  names: {
    cacheHit: 'CacheHit',
    cacheMiss: 'CacheMiss',
    rateLimited: 'RateLimited',
    /** The limiter could not reach the cache and let the request through. */
    rateLimiterUnavailable: 'RateLimiterUnavailable',
    idempotentReplay: 'IdempotentReplay',
    fanoutDeliveries: 'FanoutDeliveries',
    fanoutTimelinesSkipped: 'FanoutTimelinesSkipped',
    celebrityMerges: 'CelebrityMerges',
    mediaProcessed: 'MediaProcessed',
    mediaFailed: 'MediaFailed',
    mediaProcessingMs: 'MediaProcessingDuration',
    /** Media the sweeper found stuck in processing and marked failed. */
    mediaProcessingTimeouts: 'MediaProcessingTimeouts',
  },
} as const;
