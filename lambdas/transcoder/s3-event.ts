/**
 * Reads upload notifications from an S3 event (the AWS shape, which the local stack reproduces).
 * Keys arrive URL-encoded with '+' for spaces. Malformed records are skipped, never thrown on.
 */
import { MEDIA_PREFIXES } from '../../app/model';
import type { UploadEvent } from './process-upload';

interface S3EventRecordLike {
  readonly eventName?: unknown;
  readonly s3?: {
    readonly bucket?: { readonly name?: unknown };
    readonly object?: { readonly key?: unknown; readonly size?: unknown };
  };
}

export function decodeS3Key(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function uploadsFromS3Event(event: unknown): UploadEvent[] {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return [];
  const uploads: UploadEvent[] = [];
  for (const record of records as S3EventRecordLike[]) {
    if (typeof record?.eventName !== 'string' || !record.eventName.startsWith('ObjectCreated:')) {
      continue;
    }
    const bucket = record.s3?.bucket?.name;
    const rawKey = record.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof rawKey !== 'string') continue;
    const key = decodeS3Key(rawKey);
    if (key === undefined || !key.startsWith(MEDIA_PREFIXES.uploads)) continue;
    const size = record.s3?.object?.size;
    uploads.push({ bucket, key, ...(typeof size === 'number' ? { size } : {}) });
  }
  return uploads;
}
