/**
 * `npx tsx bench/upload-parts.ts`: time to upload 100 MiB to the local S3 emulator through
 * presigned URLs, in one PUT vs in 8 MiB parts (the app's part URLs, 4 in flight, then
 * CompleteMultipartUpload), median of 5 runs each. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIMITS } from '../app/model';
import { presignParts, startMultipartUpload } from '../lambdas/core/media/store-uploads';
import { S3_BUCKET_NAME, S3Emulator, S3RVER_CREDENTIALS } from '../local/s3-emulator';

const SIZE = 100 * 1024 * 1024;
const RUNS = 5;
const CONCURRENCY = 4;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'chirp-upload-parts-'));
  const emulator = new S3Emulator({ directory, bucket: S3_BUCKET_NAME, log: () => undefined });
  await emulator.start();
  const s3 = new S3Client({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const body = randomBytes(SIZE);
  const single: number[] = [];
  const parts: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const key = `uploads/bench-single-${run}`;
      const signed = new Set(['content-length']);
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: S3_BUCKET_NAME, Key: key, ContentLength: SIZE }),
        { expiresIn: 600, signableHeaders: signed, unhoistableHeaders: signed },
      );
      let started = performance.now();
      const put = await fetch(url, { method: 'PUT', body });
      if (!put.ok) throw new Error(`single PUT: ${put.status} ${await put.text()}`);
      single.push(performance.now() - started);

      const partsKey = `uploads/bench-parts-${run}`;
      started = performance.now();
      const uploadId = await startMultipartUpload(s3, S3_BUCKET_NAME, partsKey, 'video/mp4');
      const urls = await presignParts(s3, S3_BUCKET_NAME, partsKey, uploadId, SIZE, new Date());
      const queue = [...urls];
      const etags: { PartNumber: number; ETag: string }[] = [];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
            const start = (part.part_number - 1) * LIMITS.multipartPartBytes;
            const response = await fetch(part.url, {
              method: 'PUT',
              body: body.subarray(start, start + part.size_bytes),
            });
            if (!response.ok) throw new Error(`part ${part.part_number}: ${response.status}`);
            etags.push({ PartNumber: part.part_number, ETag: response.headers.get('etag') ?? '' });
          }
        }),
      );
      etags.sort((a, b) => a.PartNumber - b.PartNumber);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: S3_BUCKET_NAME,
          Key: partsKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags },
        }),
      );
      parts.push(performance.now() - started);
    }
  } finally {
    s3.destroy();
    await emulator.stop();
    rmSync(directory, { recursive: true, force: true });
  }
  process.stdout.write(
    `${JSON.stringify({
      bytes: SIZE,
      runs: RUNS,
      singlePutMs: Math.round(median(single)),
      partsMs: Math.round(median(parts)),
      partBytes: LIMITS.multipartPartBytes,
      concurrency: CONCURRENCY,
      singleAllMs: single.map(Math.round),
      partsAllMs: parts.map(Math.round),
    })}\n`,
  );
}

void main();
