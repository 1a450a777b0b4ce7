/**
 * Upload quotas per user, kept in DynamoDB (one item per user, store-quota.ts), so they hold
 * whether or not the cache is up:
 * - at most `pendingMax` media waiting for their upload: a map from media id to the expiry of its
 *   presigned URL. A slot frees itself when that URL expires (after which no upload can start);
 * - at most `bytesPerDay` bytes declared per UTC day (S3 holds each upload to its declared size).
 *
 * Each reservation is one conditional UpdateItem (`size(pending) < max AND bytes_used <= left`),
 * which DynamoDB applies atomically, so concurrent inits cannot overshoot. Only when it fails is
 * the item read, to tell a full quota from a quota that needs creating, a new day, or expired
 * slots to prune, each repaired by a conditional write before trying again.
 */
import { LIMITS } from '../../../app/model';
import { ServiceUnavailableError, tooManyRequests } from '../errors';
import { logger } from '../../platform/logger';
import { sleep } from '../../platform/dynamo';
import {
  readQuota,
  removeQuotaSlots,
  returnQuotaSlot,
  startQuotaDay,
  takeQuotaSlot,
} from './store-quota';
import type { MediaStoreDeps } from './store';

export interface UploadQuota {
  readonly pendingMax: number;
  readonly bytesPerDay: number;
}

export const DEFAULT_UPLOAD_QUOTA: UploadQuota = {
  pendingMax: LIMITS.pendingUploadsMaxDefault,
  bytesPerDay: LIMITS.uploadBytesPerDayDefault,
};

/**
 * Each failed attempt repairs one thing (create, new day, prune) or lost a race to a concurrent
 * reservation, which took a slot: a caller's concurrent inits settle within a few rounds.
 */
const ATTEMPTS = 20;
/** Prune at most this many slots per write (names in one update expression). */
const PRUNE_MAX = 50;

/**
 * Reserves a pending slot for `mediaId` until `urlExpiresAtMs` and `sizeBytes` of today's budget.
 * Throws 429 `too_many_pending_uploads` or `upload_budget_exceeded`, with Retry-After.
 */
export async function reserveUpload(
  deps: MediaStoreDeps,
  quota: UploadQuota,
  userId: string,
  mediaId: string,
  sizeBytes: number,
  nowMs: number,
  urlExpiresAtMs: number,
): Promise<void> {
  const today = utcDay(nowMs);
  const reservation = {
    mediaId,
    sizeBytes,
    expiresAtSeconds: Math.ceil(urlExpiresAtMs / 1000),
    today,
    pendingMax: quota.pendingMax,
    bytesPerDay: quota.bytesPerDay,
  };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (await takeQuotaSlot(deps, userId, reservation)) return;
    const item = await readQuota(deps, userId);
    // An SDK retry of an update DynamoDB had applied: the reservation is ours already.
    if (item.pending?.[mediaId] !== undefined) return;
    if (item.pending === undefined || item.bytes_day !== today) {
      await startQuotaDay(deps, userId, today);
      continue;
    }
    if ((item.bytes_used ?? 0) + sizeBytes > quota.bytesPerDay) {
      throw tooManyRequests(
        'upload_budget_exceeded',
        `Uploads are limited to ${quota.bytesPerDay} bytes per day`,
        (nextUtcDayMs(nowMs) - nowMs) / 1000,
      );
    }
    // Not full when read: a concurrent reservation or prune changed the item. Try again, spread.
    if (Object.keys(item.pending).length < quota.pendingMax) {
      await sleep(5 + Math.random() * 20);
      continue;
    }
    const nowSeconds = nowMs / 1000;
    const expired = Object.entries(item.pending)
      .filter(([, expires]) => expires <= nowSeconds)
      .map(([id]) => id);
    if (expired.length === 0) {
      const soonest = Math.min(...Object.values(item.pending));
      throw tooManyRequests(
        'too_many_pending_uploads',
        `At most ${quota.pendingMax} uploads may be pending at once; finish or let one expire`,
        soonest - nowSeconds,
      );
    }
    await removeQuotaSlots(deps, userId, expired.slice(0, PRUNE_MAX));
  }
  throw new ServiceUnavailableError('upload quota contended; retry');
}

/** Gives back a reservation whose media record could not be written. Never throws. */
export async function releaseUpload(
  deps: MediaStoreDeps,
  userId: string,
  mediaId: string,
  sizeBytes: number,
  nowMs: number,
): Promise<void> {
  // A new day started meanwhile (false: nothing to refund), or DynamoDB failed: the slot then
  // frees itself when its URL expires.
  await returnQuotaSlot(deps, userId, { mediaId, sizeBytes, today: utcDay(nowMs) }).catch(
    (error: unknown) => {
      logger.warn('upload reservation not released', { userId, mediaId, error: String(error) });
    },
  );
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function nextUtcDayMs(ms: number): number {
  const day = new Date(ms);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1);
}
