/**
 * What the domain needs from the outside world. Entry files pass the module-scope clients from
 * lambdas/platform/clients.ts; tests pass clients pointed at the local services (or at a dead Redis).
 */
import type { DocumentStore } from '../platform/document-store';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CacheClient } from '../platform/clients';
import type { Cache } from './cache-port';
import type { UploadQuota } from './media/upload-quota';

export interface Tables {
  readonly tweets: string;
  readonly metadata: string;
}

export interface Deps {
  readonly dynamo: DocumentStore;
  /**
   * @deprecated The raw client, until every store takes `cache` (issue 18); do not add uses.
   */
  readonly redis: CacheClient;
  /** The cache port: every failure is a miss (lambdas/core/cache-port.ts). */
  readonly cache: Cache;
  readonly tables: Tables;
  /** CDN origin for processed media, without a trailing slash. */
  readonly cdnBaseUrl: string;
  /** Authors with more followers than this are merged at read time instead of fanned out. */
  readonly fanoutMaxFollowers: number;
  /**
   * Most timelines the fanout writes per second (CACHE_SIZING); 0 or absent: unpaced.
   */
  readonly fanoutDeliveriesPerSecond?: number;
  /** How deep a home timeline goes (LIMITS.timelineMaxEntries unless configured smaller). */
  readonly timelineMaxEntries: number;
  /** Most followees per user. @default LIMITS.maxFolloweesDefault */
  readonly maxFollowees?: number;
  /** Clock, in epoch ms; tests may pin it. */
  readonly now?: () => number;
}

export interface UploadDeps {
  readonly dynamo: DocumentStore;
  readonly s3: S3Client;
  readonly tables: Tables;
  readonly bucket: string;
  /** @default DEFAULT_UPLOAD_QUOTA (upload-quota.ts) */
  readonly uploadQuota?: UploadQuota;
  readonly now?: () => number;
}

export const nowMs = (deps: { readonly now?: () => number }): number => (deps.now ?? Date.now)();
