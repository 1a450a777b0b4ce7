/**
 * The upload object (uploads/{media_id}) in the media bucket: the presigned PUT of a whole upload,
 * and S3's multipart upload for uploads in parts (start, presigned part URLs, list, complete,
 * abort). What the API and the sweeper do with them is in upload.ts, multipart.ts and
 * lambdas/transcoder/sweeper.ts.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart as CompletedPartRef,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIMITS } from '../../../app/model';

export interface UploadPartUrl {
  readonly part_number: number;
  readonly url: string;
  readonly size_bytes: number;
}

/** Part sizes for an upload of `sizeBytes`: full parts, then the remainder. */
export function partSizes(sizeBytes: number, partBytes = LIMITS.multipartPartBytes): number[] {
  const count = Math.ceil(sizeBytes / partBytes);
  return Array.from({ length: count }, (_, i) =>
    i < count - 1 ? partBytes : sizeBytes - partBytes * (count - 1),
  );
}

/** Starts the multipart upload of `key`; returns S3's upload id. */
export async function startMultipartUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  contentType: string,
): Promise<string> {
  const out = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
  );
  if (out.UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
  return out.UploadId;
}

/** Aborts a multipart upload; one already gone (completed or aborted) is fine. */
export async function abortMultipartUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  try {
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
  }
}

/** One presigned UploadPart URL per part, each signing its exact Content-Length. */
export async function presignParts(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  sizeBytes: number,
  signingDate: Date,
): Promise<UploadPartUrl[]> {
  const signed = new Set(['content-length']);
  return Promise.all(
    partSizes(sizeBytes).map(async (size, i) => ({
      part_number: i + 1,
      size_bytes: size,
      url: await getSignedUrl(
        s3,
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          ContentLength: size,
        }),
        {
          expiresIn: LIMITS.multipartUrlExpiresSeconds,
          signableHeaders: signed,
          unhoistableHeaders: signed,
          signingDate,
        },
      ),
    })),
  );
}

/**
 * A presigned PUT of the whole upload that signs Content-Type, Content-Length and If-None-Match: *,
 * so S3 refuses any other type or length, and any second upload to the key (one-shot).
 */
export async function presignUploadPut(
  s3: S3Client,
  bucket: string,
  upload: { readonly key: string; readonly contentType: string; readonly sizeBytes: number },
  signingDate: Date,
): Promise<{ readonly url: string; readonly headers: Record<string, string> }> {
  const signed = new Set(['content-type', 'content-length', 'if-none-match']);
  const url = await getSignedUrl(
    s3,
    new PutObjectCommand({
      Bucket: bucket,
      Key: upload.key,
      ContentType: upload.contentType,
      ContentLength: upload.sizeBytes,
      IfNoneMatch: '*',
    }),
    {
      expiresIn: LIMITS.uploadUrlExpiresSeconds,
      signableHeaders: signed,
      unhoistableHeaders: signed,
      signingDate,
    },
  );
  return {
    url,
    headers: {
      'content-type': upload.contentType,
      'content-length': String(upload.sizeBytes),
      'if-none-match': '*',
    },
  };
}

/** Assembles the listed parts into the upload's object. */
export async function completeMultipartUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  parts: readonly CompletedPartRef[],
): Promise<void> {
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: [...parts] },
    }),
  );
}

/** The parts S3 holds for the upload, by part number (every page of ListParts). */
export async function listUploadedParts(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<Map<number, Part>> {
  const parts = new Map<number, Part>();
  let marker: string | undefined;
  do {
    const page = await s3.send(
      new ListPartsCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumberMarker: marker,
      }),
    );
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined) parts.set(part.PartNumber, part);
    }
    marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return parts;
}
