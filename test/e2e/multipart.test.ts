/**
 * Uploads in parts end to end, against the local stack (API emulator, handlers, DynamoDB Local,
 * the S3 emulator with its SigV4 checks and the transcoder on the S3 event): the typed client's
 * helper with a failed part retried, parts PUT out of order by hand, a part of the wrong length
 * refused by its signature, completes refused for missing or unlisted parts, and an abandoned
 * upload aborted by the media sweeper.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import { uploadMedia, type PartsUpload, type UploadProgress } from '../../client';
import { errorOf, eventually, expectError, newUser } from '../support/api-client';
import { invokeFunction } from '../support/env';
import { stackClients } from '../security/state';

const MiB = 1024 * 1024;
const admin = stackClients();
afterAll(() => admin.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function storedUpload(mediaId: string): Promise<Buffer> {
  const out = await admin.s3.send(
    new GetObjectCommand({ Bucket: admin.bucket, Key: `uploads/${mediaId}` }),
  );
  return Buffer.from(await out.Body!.transformToByteArray());
}

const putPart = (url: string, bytes: Uint8Array) =>
  fetch(url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> });

function partBytes(upload: PartsUpload, body: Buffer, partNumber: number): Buffer {
  const start = (partNumber - 1) * upload.part_size_bytes;
  const part = upload.parts[partNumber - 1]!;
  return body.subarray(start, start + part.size_bytes);
}

describe('uploads in parts', () => {
  it('a 40 MiB upload through the typed client: parts, one retried, progress, transcoder', async () => {
    const user = newUser('parts-client');
    // Not a video: the transcoder's refusal proves it ran on the assembled object.
    const body = randomBytes(40 * MiB);
    const sent: number[] = [];
    let failedOnce = false;
    // Drops the first attempt of part 2 before it leaves, as a lost connection would look to
    // the client (fetch rejects); every other PUT goes to the S3 emulator.
    const flakyFetch: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const partNumber = Number(url.searchParams.get('partNumber'));
      sent.push(partNumber);
      if (partNumber === 2 && !failedOnce) {
        failedOnce = true;
        return Promise.reject(new TypeError('fetch failed: socket hang up'));
      }
      return fetch(input, init);
    };
    const progress: UploadProgress[] = [];
    const started = Date.now();
    const init = await uploadMedia(
      user.api,
      { bytes: body, contentType: 'video/mp4' },
      { fetch: flakyFetch, retryDelayMs: 10, onProgress: (p) => progress.push(p) },
    );
    const elapsed = Date.now() - started;
    expect(init.upload_method).toBe('PARTS');
    if (init.upload_method !== 'PARTS') return;
    expect(init.part_size_bytes).toBe(LIMITS.multipartPartBytes);
    expect(init.parts.map((p) => p.size_bytes)).toEqual(Array(5).fill(8 * MiB));
    // Five parts, part 2 twice, nothing else sent again.
    expect([...sent].sort()).toEqual([1, 2, 2, 3, 4, 5]);
    expect(progress.at(-1)).toEqual({ loaded: body.length, total: body.length });
    expect(sha256(await storedUpload(init.media_id))).toBe(sha256(body));

    const failed = await eventually(
      'the transcoder to take the assembled upload',
      async () => {
        const media = await user.getMedia(init.media_id);
        return media.body.status === 'failed' ? media.body : undefined;
      },
      60_000,
      250,
    );
    expect(failed.size_bytes).toBe(body.length);
    expect(failed.failure?.code).toBeDefined();
    // Completing again is a no-op that answers the media as it is.
    const again = await user.completeUpload(init.media_id, {
      parts: init.parts.map((p) => ({ part_number: p.part_number, etag: 'whatever' })),
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ media_id: init.media_id, status: 'failed' });
    process.stdout.write(`40 MiB in parts through the typed client: ${elapsed} ms\n`);
  });

  it('parts PUT out of order; wrong length, missing and unlisted parts refused', async () => {
    const user = newUser('parts-manual');
    // Up to the threshold is one PUT.
    const small = await user.initMedia({ content_type: 'video/mp4', size_bytes: 32 * MiB });
    expect(small.status).toBe(201);
    expect(small.body.upload_method).toBe('PUT');

    const big = randomBytes(40 * MiB + 12345);
    const init = await user.initParts({ content_type: 'video/quicktime', size_bytes: big.length });
    expect(init.status).toBe(201);
    const upload = init.body;
    expect(upload.parts).toHaveLength(Math.ceil(big.length / (8 * MiB)));
    expect(upload.parts.at(-1)!.size_bytes).toBe(big.length - 5 * 8 * MiB);

    // A part one byte short: its Content-Length is signed, so S3 refuses it.
    const first = partBytes(upload, big, 1);
    const short = await putPart(upload.parts[0]!.url, first.subarray(1));
    expect(short.status).toBe(403);
    expect(await short.text()).toContain('SignatureDoesNotMatch');
    // A part URL is for its own part number only: the signature covers the query.
    const moved = new URL(upload.parts[0]!.url);
    moved.searchParams.set('partNumber', '2');
    expect((await putPart(moved.toString(), first)).status).toBe(403);

    // Every part but the first, last to second.
    const etags = new Map<number, string>();
    for (const part of [...upload.parts].reverse().slice(0, -1)) {
      const response = await putPart(part.url, partBytes(upload, big, part.part_number));
      expect(response.status).toBe(200);
      etags.set(part.part_number, response.headers.get('etag') ?? '');
    }
    const listAll = () =>
      upload.parts.map((p) => ({
        part_number: p.part_number,
        etag: etags.get(p.part_number) ?? '"0123456789abcdef0123456789abcdef"',
      }));

    // Part 1 was never stored (its only PUT was refused).
    expectError(
      await user.completeUpload(upload.media_id, { parts: listAll() }),
      409,
      'upload_part_missing',
    );
    // A list without part 3, and one naming a part twice.
    expectError(
      await user.completeUpload(upload.media_id, {
        parts: listAll().filter((p) => p.part_number !== 3),
      }),
      400,
      'upload_parts_incomplete',
    );
    const twice = await user.completeUpload(upload.media_id, {
      parts: [...listAll().slice(0, -1), listAll()[0]!],
    });
    expectError(twice, 400, 'upload_parts_incomplete');
    expect(errorOf(twice).error.message).toMatch(/exactly once/);

    const response = await putPart(upload.parts[0]!.url, first);
    expect(response.status).toBe(200);
    etags.set(1, response.headers.get('etag') ?? '');
    // Another part's ETag under part 2.
    expectError(
      await user.completeUpload(upload.media_id, {
        parts: listAll().map((p) => (p.part_number === 2 ? { ...p, etag: etags.get(3)! } : p)),
      }),
      409,
      'upload_part_mismatch',
    );
    expect((await user.getMedia(upload.media_id)).body.status).toBe('pending_upload');

    const done = await user.completeUpload(upload.media_id, { parts: listAll() });
    expect(done.status).toBe(200);
    expect(done.body.media_id).toBe(upload.media_id);
    expect(sha256(await storedUpload(upload.media_id))).toBe(sha256(big));

    // Someone else cannot complete (or learn about) it.
    expectError(
      await newUser('parts-stranger').completeUpload(upload.media_id, { parts: listAll() }),
      404,
      'media_not_found',
    );
  });

  it('an abandoned upload is aborted by the media sweeper with its media', async () => {
    const user = newUser('parts-abandoned');
    const size = 33 * MiB;
    const init = await user.initParts({ content_type: 'video/mp4', size_bytes: size });
    expect(init.status).toBe(201);
    const upload = init.body;
    const part = randomBytes(upload.parts[0]!.size_bytes);
    expect((await putPart(upload.parts[0]!.url, part)).status).toBe(200);
    const key = `uploads/${upload.media_id}`;
    const record = await admin.dynamo.send(
      new UpdateCommand({
        TableName: admin.tables.metadata,
        Key: METADATA_KEYS.media(upload.media_id),
        // Aged past the unattached TTL, as if the client vanished a day ago.
        UpdateExpression: 'SET gsi2sk = :old',
        ExpressionAttributeValues: {
          ':old': new Date(
            Date.now() - (LIMITS.unattachedMediaTtlSeconds + 60) * 1000,
          ).toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const uploadId = String(record.Attributes?.upload_id);
    const listed = await admin.s3.send(
      new ListPartsCommand({ Bucket: admin.bucket, Key: key, UploadId: uploadId }),
    );
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, part.length]]);

    await invokeFunction('MediaSweeper');

    await expect(
      admin.s3.send(new ListPartsCommand({ Bucket: admin.bucket, Key: key, UploadId: uploadId })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    // Its part URLs are dead too, and the media is gone.
    const late = await putPart(upload.parts[1]!.url, randomBytes(upload.parts[1]!.size_bytes));
    expect(late.status).toBe(404);
    expect(await late.text()).toContain('NoSuchUpload');
    expectError(await user.getMedia(upload.media_id), 404, 'media_not_found');
  });
});

describe("the S3 emulator's multipart rules (as S3's)", () => {
  const Bucket = admin.bucket;

  async function started(Key: string, parts: Buffer[]) {
    const { UploadId } = await admin.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) {
      const out = await admin.s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }),
      );
      etags.push(out.ETag ?? '');
    }
    return { UploadId: UploadId!, etags };
  }

  const complete = (Key: string, UploadId: string, Parts: { PartNumber: number; ETag: string }[]) =>
    admin.s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
    );

  it('refuses parts out of order, unknown ETags and small parts, then completes', async () => {
    const Key = 'uploads/emulator-rules';
    const big = randomBytes(5 * MiB);
    const { UploadId, etags } = await started(Key, [big, randomBytes(1000), randomBytes(10)]);
    const listed = etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }));
    await expect(complete(Key, UploadId, [listed[1]!, listed[0]!])).rejects.toMatchObject({
      name: 'InvalidPartOrder',
    });
    await expect(
      complete(Key, UploadId, [listed[0]!, { PartNumber: 2, ETag: etags[2]! }]),
    ).rejects.toMatchObject({ name: 'InvalidPart' });
    // Part 2 (1000 bytes) is not the last: below S3's 5 MiB minimum.
    await expect(complete(Key, UploadId, listed)).rejects.toMatchObject({
      name: 'EntityTooSmall',
    });
    const page = await admin.s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 2 }));
    expect(page.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(page.IsTruncated).toBe(true);
    await complete(Key, UploadId, [listed[0]!, listed[2]!]);
    const stored = await admin.s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Number(stored.ContentLength)).toBe(big.length + 10);
    // Completed: the upload is gone.
    await expect(complete(Key, UploadId, listed)).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('aborts: its parts are gone and no part can be added', async () => {
    const Key = 'uploads/emulator-abort';
    const { UploadId } = await started(Key, [randomBytes(100)]);
    await admin.s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    await expect(
      admin.s3.send(new ListPartsCommand({ Bucket, Key, UploadId })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    await expect(
      admin.s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: randomBytes(10) }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
