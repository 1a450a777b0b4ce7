/**
 * The upload quota item (METADATA_KEYS.uploadQuota, one per user): the one module that reads or
 * writes it. Its own partition, so InitMedia's access to it is granted without profiles.
 * `pending` maps media id -> expiry (epoch seconds) of its presigned URL; `bytes_used` counts the
 * bytes declared on `bytes_day` (UTC). The rules built on it are in upload-quota.ts.
 */
import { METADATA_KEYS } from '../../../app/model';
import { conditionalWrite } from '../../platform/dynamo';
import type { MediaStoreDeps } from './store';

export interface QuotaItem {
  readonly pending?: Record<string, number>;
  readonly bytes_day?: string;
  readonly bytes_used?: number;
}

export interface Reservation {
  readonly mediaId: string;
  readonly sizeBytes: number;
  /** When the slot frees itself (the URL's expiry), epoch seconds. */
  readonly expiresAtSeconds: number;
  readonly today: string;
  readonly pendingMax: number;
  readonly bytesPerDay: number;
}

/**
 * Takes a pending slot and adds the bytes to today's count, in one conditional update: a slot is
 * free, the item is today's and the bytes fit. Returns false when any of that does not hold.
 */
export async function takeQuotaSlot(
  deps: MediaStoreDeps,
  userId: string,
  reservation: Reservation,
): Promise<boolean> {
  const taken = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.uploadQuota(userId),
      UpdateExpression: 'SET pending.#media = :expires ADD bytes_used :size',
      ConditionExpression: 'size(pending) < :max AND bytes_day = :today AND bytes_used <= :left',
      ExpressionAttributeNames: { '#media': reservation.mediaId },
      ExpressionAttributeValues: {
        ':expires': reservation.expiresAtSeconds,
        ':size': reservation.sizeBytes,
        ':max': reservation.pendingMax,
        ':today': reservation.today,
        ':left': reservation.bytesPerDay - reservation.sizeBytes,
      },
    }),
  );
  return taken !== undefined;
}

/** The quota item, strongly consistent (empty when there is none yet). */
export async function readQuota(deps: MediaStoreDeps, userId: string): Promise<QuotaItem> {
  const out = await deps.dynamo.get({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.uploadQuota(userId),
    ConsistentRead: true,
  });
  return (out.Item ?? {}) as QuotaItem;
}

/**
 * Gives back a slot and its bytes, if the item is still `today`'s. Returns false when a new day
 * started meanwhile (nothing to refund).
 */
export async function returnQuotaSlot(
  deps: MediaStoreDeps,
  userId: string,
  slot: { readonly mediaId: string; readonly sizeBytes: number; readonly today: string },
): Promise<boolean> {
  const returned = await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.uploadQuota(userId),
      UpdateExpression: 'REMOVE pending.#media ADD bytes_used :refund',
      ConditionExpression: 'bytes_day = :today',
      ExpressionAttributeNames: { '#media': slot.mediaId },
      ExpressionAttributeValues: { ':refund': -slot.sizeBytes, ':today': slot.today },
    }),
  );
  return returned !== undefined;
}

/** Creates the quota item, or resets its byte count for a new day (once, whoever gets there). */
export async function startQuotaDay(
  deps: MediaStoreDeps,
  userId: string,
  today: string,
): Promise<void> {
  // Lost to whoever got there first: the item is today's either way.
  await conditionalWrite(
    deps.dynamo.update({
      TableName: deps.tables.metadata,
      Key: METADATA_KEYS.uploadQuota(userId),
      UpdateExpression:
        'SET user_id = :user, pending = if_not_exists(pending, :empty), bytes_day = :today, bytes_used = :zero',
      ConditionExpression: 'attribute_not_exists(bytes_day) OR bytes_day <> :today',
      ExpressionAttributeValues: { ':user': userId, ':empty': {}, ':today': today, ':zero': 0 },
    }),
  );
}

/** Removes slots whose URLs expired; removing one already gone is a no-op. */
export async function removeQuotaSlots(
  deps: MediaStoreDeps,
  userId: string,
  mediaIds: readonly string[],
): Promise<void> {
  const names = Object.fromEntries(mediaIds.map((id, i) => [`#m${i}`, id]));
  await deps.dynamo.update({
    TableName: deps.tables.metadata,
    Key: METADATA_KEYS.uploadQuota(userId),
    UpdateExpression: `REMOVE ${Object.keys(names)
      .map((name) => `pending.${name}`)
      .join(', ')}`,
    ExpressionAttributeNames: names,
  });
}
