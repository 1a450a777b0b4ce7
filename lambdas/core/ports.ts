/**
 * The ports the stores take (DynamoDB, the cache, tables, a clock) and the settings the services
 * read. lambdas/wiring.ts builds them from each function's access list; tests build them on the
 * local services (or on a dead Redis). Services pass them along to stores and never use them.
 */
import type { DocumentStore } from '../platform/document-store';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Cache } from './cache-port';
import type { UploadQuota } from './media/upload-quota';

export interface Tables {
  readonly tweets: string;
  readonly metadata: string;
}

export interface Deps {
  readonly dynamo: DocumentStore;
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
