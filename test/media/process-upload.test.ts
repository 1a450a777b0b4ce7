import './setup-env';
import { expect } from '@jest/globals';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { createCacheClient } from '../../lambdas/platform/clients';
import { tweetCacheKey } from '../../lambdas/core/tweets/store';
import { handler as transcoderHandler } from '../../lambdas/events/transcoder';
import { processUpload, type ProcessOutcome } from '../../lambdas/transcoder/process-upload';
import { claimForProcessing, markFailed } from '../../lambdas/transcoder/state';
import {
  MAX_PROCESSING_ATTEMPTS,
  PROCESSING_LEASE_SECONDS,
} from '../../lambdas/transcoder/settings';
import { VARIANT_CACHE_CONTROL } from '../../app/model';
import { stagedKey } from '../../lambdas/transcoder/storage';
import { animatedGif, hlsPlaylist, pngBomb, testClip, twoToneImage } from './fixtures';
import {
  getRecord,
  headObject,
  listKeys,
  newId,
  putMedia,
  putObject,
  redis,
  useMediaHarness,
  type MediaHarness,
} from './harness';

const harness = useMediaHarness();
let h: MediaHarness;
beforeAll(() => {
  h = harness();
});

/** Declares a media of this type and size, uploads the bytes, returns the S3 event payload. */
async function upload(
  contentType: string,
  bytes: Buffer,
  options: { declaredSize?: number; tweetId?: string } = {},
) {
  const record = await putMedia({
    content_type: contentType,
    size_bytes: options.declaredSize ?? bytes.length,
    ...(options.tweetId ? { tweet_id: options.tweetId } : {}),
  });
  await putObject(h.bucket, record.upload_key, bytes);
  return { mediaId: record.media_id, event: { bucket: h.bucket, key: record.upload_key } };
}

const fixture = async (name: string, make: (path: string) => Promise<string> | string) =>
  readFileSync(await make(h.tmp.file(name)));

/** Fixtures live beside the run dirs; after a run only they may remain. */
const runDirs = () => h.tmp.entries().filter((e) => e.startsWith('chirp-media-'));

describe('processUpload', () => {
  it('turns a JPEG into ready variants with immutable cache headers and invalidates its tweet', async () => {
    const jpeg = await fixture('photo.jpg', (p) => twoToneImage(1600, 1200, 'jpeg', p));
    const tweetId = `tweet-${newId()}`;
    await redis.set(tweetCacheKey(tweetId), '{"stale":true}');
    const { mediaId, event } = await upload('image/jpeg', jpeg, { tweetId });

    const outcome = await processUpload(h.deps(), event);

    expect(outcome).toEqual({ status: 'ready', mediaId, kind: 'image', variants: 8 });
    const record = (await getRecord(mediaId))!;
    expect(record).toMatchObject({ status: 'ready', width: 1600, height: 1200, failure: null });
    expect(record.gsi1pk).toBeUndefined();
    expect(record.gsi1sk).toBeUndefined();
    expect(record.blurhash).toEqual(expect.any(String));
    expect(await redis.exists(tweetCacheKey(tweetId))).toBe(0);
    const variants = record.variants!;
    expect(
      variants.map((v) => `${v.name}/${v.content_type}/${v.width}x${v.height}`).sort(),
    ).toEqual([
      'large/image/jpeg/1600x1200',
      'large/image/webp/1600x1200',
      'medium/image/jpeg/1200x900',
      'medium/image/webp/1200x900',
      'small/image/jpeg/680x510',
      'small/image/webp/680x510',
      'thumb/image/jpeg/150x150',
      'thumb/image/webp/150x150',
    ]);
    for (const variant of variants) {
      expect(variant.key).toMatch(
        new RegExp(`^media/${mediaId}/[0-9a-f]{16}/${variant.name}\\.(webp|jpg)$`),
      );
      // Written to the staged prefix (never served); the publisher copies it to variant.key.
      const head = await headObject(h.bucket, stagedKey(variant.key));
      expect(head.ContentType).toBe(variant.content_type);
      expect(head.CacheControl).toBe(VARIANT_CACHE_CONTROL);
      expect(head.ContentLength).toBe(variant.bytes);
    }
    expect(runDirs()).toEqual([]);
  });

  it('removes run dirs left by killed runs, and only those', async () => {
    const stale = h.tmp.file('chirp-media-killedrun');
    const live = h.tmp.file('chirp-media-liverun');
    for (const dir of [stale, live]) mkdirSync(dir);
    writeFileSync(join(stale, 'input'), 'x');
    const old = new Date(Date.now() - 20 * 60_000);
    utimesSync(stale, old, old);
    const png = await fixture('stale.png', (p) => twoToneImage(30, 20, 'png', p));
    const { event } = await upload('image/png', png);

    expect(await processUpload(h.deps(), event)).toMatchObject({ status: 'ready' });
    expect(runDirs()).toEqual(['chirp-media-liverun']);
    rmSync(live, { recursive: true });
  });

  it('processes a duplicate event once: one ready record, one set of identical keys', async () => {
    const png = await fixture('dup.png', (p) => twoToneImage(300, 200, 'png', p));
    const { mediaId, event } = await upload('image/png', png);

    const both = await Promise.all([
      processUpload(h.deps(), event),
      processUpload(h.deps(), event),
    ]);
    const after = (await getRecord(mediaId))!;
    const again = await processUpload(h.deps(), event);

    expect(both.map((o) => o.status).sort()).toEqual(['ignored', 'ready']);
    expect(again).toEqual({ status: 'ignored', mediaId, reason: 'already_final' });
    const final = (await getRecord(mediaId))!;
    expect(final).toEqual(after);
    expect(final.status).toBe('ready');
    const keys = final.variants!.map((v) => stagedKey(v.key)).sort();
    expect(await listKeys(h.bucket, `staged/${mediaId}/`)).toEqual(keys);
    expect(await listKeys(h.bucket, `media/${mediaId}/`)).toEqual([]);
  });

  it('lets a retry take over media left in processing by a run that died', async () => {
    const webp = await fixture('retry.webp', (p) => twoToneImage(300, 200, 'webp', p));
    const { mediaId, event } = await upload('image/webp', webp);
    const died = await claimForProcessing(h.deps(), mediaId, 'invocation-1');
    expect(died.outcome).toBe('claimed');

    // Lambda's retry of the same invocation: its earlier attempt is over, so it takes over at once.
    const retry = h.deps({ invocationId: 'invocation-1' });
    expect(await processUpload(retry, event)).toMatchObject({ status: 'ready' });
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready', processing_attempts: 2 });
  });

  it('lets any delivery take over a claim whose lease ran out (its run died)', async () => {
    const png = await fixture('lease.png', (p) => twoToneImage(60, 40, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    const longAgo = Date.now() - (PROCESSING_LEASE_SECONDS + 1) * 1000;
    await claimForProcessing(h.deps({ now: () => longAgo }), mediaId, 'died-long-ago');

    expect(await processUpload(h.deps(), event)).toMatchObject({ status: 'ready' });
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready', processing_attempts: 2 });
  });

  it('does not count duplicate deliveries while a run is alive, so they cannot fail the media', async () => {
    const png = await fixture('alive.png', (p) => twoToneImage(300, 200, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    expect((await claimForProcessing(h.deps(), mediaId, 'original')).outcome).toBe('claimed');

    // A duplicate, a late redelivery and one more, each a Lambda invocation of its own, while the
    // original's lease is live: no claim written, nothing counted.
    for (const duplicate of ['duplicate', 'late-redelivery', 'another']) {
      const claim = await claimForProcessing(h.deps(), mediaId, duplicate);
      expect(claim.outcome).toBe('in_progress');
    }
    expect(await getRecord(mediaId)).toMatchObject({
      status: 'processing',
      claim_id: 'original',
      processing_attempts: 1,
    });

    // The original then dies (out of memory), and Lambda retries it: the budget is still there.
    const retry = h.deps({ invocationId: 'original' });
    expect(await processUpload(retry, event)).toMatchObject({ status: 'ready' });
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready', processing_attempts: 2 });
  });

  it('lets duplicate deliveries that meet a live claim process alongside it, uncounted', async () => {
    const png = await fixture('alongside.png', (p) => twoToneImage(300, 200, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    await claimForProcessing(h.deps(), mediaId, 'original-still-running');

    // Four deliveries at once: under the old rule their claims spent the 3 attempts and the
    // fourth failed the media. Each may process (the claim's run may be dead, e.g. killed and
    // redelivered at once); the first to finish makes it ready, the others find it final.
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => processUpload(h.deps(), event)),
    );
    expect(outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'ready')).toHaveLength(1);
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready', processing_attempts: 1 });
  });

  it('fails media whose runs really died MAX_PROCESSING_ATTEMPTS times', async () => {
    const png = await fixture('oom.png', (p) => twoToneImage(30, 20, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    const lease = PROCESSING_LEASE_SECONDS * 1000;
    const start = Date.now() - 3 * lease - 10_000;
    const at = (ms: number) => h.deps({ now: () => start + ms });
    expect(MAX_PROCESSING_ATTEMPTS).toBe(3);

    // Run 1 claims and dies; Lambda's retry of that invocation claims and dies too.
    expect((await claimForProcessing(at(0), mediaId, 'event-a')).outcome).toBe('claimed');
    expect((await claimForProcessing(at(60_000), mediaId, 'event-a')).outcome).toBe('claimed');
    // A duplicate within that lease is not a death and does not count.
    expect((await claimForProcessing(at(61_000), mediaId, 'event-b')).outcome).toBe('in_progress');
    // Its lease runs out: run 3 (a redrive) takes over and dies.
    const third = await claimForProcessing(at(60_000 + lease + 1000), mediaId, 'redrive');
    expect(third.outcome).toBe('claimed');
    expect(await getRecord(mediaId)).toMatchObject({ processing_attempts: 3 });

    // The next delivery after that lease finds the budget spent.
    expect(await processUpload(h.deps(), event)).toEqual({
      status: 'failed',
      mediaId,
      kind: 'image',
      code: 'processing_error',
    });
    expect(await getRecord(mediaId)).toMatchObject({
      status: 'failed',
      failure: { code: 'processing_error' },
      processing_attempts: 3,
    });
  });

  it('gives the attempt back when a run catches an outage instead of dying', async () => {
    const png = await fixture('outage.png', (p) => twoToneImage(60, 40, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    // A real S3 client pointed at a closed port: S3 is unreachable for this run.
    const deadS3 = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
      maxAttempts: 1,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    for (let run = 0; run < MAX_PROCESSING_ATTEMPTS + 1; run += 1) {
      await expect(processUpload(h.deps({ s3: deadS3 }), event)).rejects.toThrow();
      expect(await getRecord(mediaId)).toMatchObject({
        status: 'processing',
        processing_attempts: 0,
      });
    }
    deadS3.destroy();

    expect(await processUpload(h.deps(), event)).toMatchObject({ status: 'ready' });
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready', processing_attempts: 1 });
  });

  it('never moves ready or failed media back to processing', async () => {
    const png = await fixture('final.png', (p) => twoToneImage(30, 20, 'png', p));
    const { mediaId, event } = await upload('image/png', png);
    await processUpload(h.deps(), event);
    expect(await claimForProcessing(h.deps(), mediaId, 'late')).toMatchObject({
      outcome: 'refused',
    });
    expect(await markFailed(h.deps(), mediaId, { code: 'x', message: 'y' })).toBe(false);
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready' });
  });

  it('still finishes when Redis is unreachable (the cache is only a cache)', async () => {
    // A real client pointed at a closed port: every command fails fast.
    const deadRedis = createCacheClient('redis://127.0.0.1:1');
    const png = await fixture('noredis.png', (p) => twoToneImage(40, 30, 'png', p));
    const { mediaId, event } = await upload('image/png', png, { tweetId: `tweet-${newId()}` });
    expect(await processUpload(h.deps({ redis: deadRedis }), event)).toMatchObject({
      status: 'ready',
    });
    expect(await getRecord(mediaId)).toMatchObject({ status: 'ready' });
    deadRedis.disconnect();
  });

  it('turns an animated GIF into an MP4 with a poster', async () => {
    const gif = await fixture('anim.gif', (p) => animatedGif(p));
    const { mediaId, event } = await upload('image/gif', gif);
    expect(await processUpload(h.deps(), event)).toMatchObject({ status: 'ready' });
    const record = (await getRecord(mediaId))!;
    expect(record.duration_ms).toBeGreaterThan(500);
    const video = record.variants!.find((v) => v.name === 'video')!;
    expect(video).toMatchObject({ content_type: 'video/mp4', width: 160, height: 120 });
    expect((await headObject(h.bucket, stagedKey(video.key))).ContentType).toBe('video/mp4');
    expect(record.variants!.filter((v) => v.name === 'poster')).toHaveLength(2);
  });

  it('stores a video with its duration and dimensions', async () => {
    const clip = await fixture('clip.mov', (p) =>
      testClip(p, { size: '320x240', seconds: 0.5, extra: ['-f', 'mov'] }),
    );
    const { mediaId, event } = await upload('video/quicktime', clip);
    expect(await processUpload(h.deps(), event)).toMatchObject({ status: 'ready' });
    expect(await getRecord(mediaId)).toMatchObject({
      status: 'ready',
      width: 320,
      height: 240,
      duration_ms: expect.any(Number),
    });
  });

  describe('hostile uploads end failed with their code, no crash, no leftovers', () => {
    const cases: [
      string,
      string,
      () => Buffer | Promise<Buffer>,
      string,
      { declaredSize?: number }?,
    ][] = [
      [
        'a PNG declaring 40000x40000 pixels',
        'image/png',
        () => pngBomb(40000, 40000),
        'image_too_large',
      ],
      [
        'a truncated JPEG',
        'image/jpeg',
        async () => {
          const whole = await fixture('t.jpg', (p) => twoToneImage(800, 600, 'jpeg', p));
          return whole.subarray(0, whole.length >> 1);
        },
        'corrupt_media',
      ],
      [
        'random bytes declared as video/mp4',
        'video/mp4',
        () => randomBytes(20_000),
        'unsupported_format',
      ],
      [
        'a PNG declared as image/jpeg',
        'image/jpeg',
        () => fixture('p.png', (p) => twoToneImage(64, 64, 'png', p)),
        'content_type_mismatch',
      ],
      [
        'an HLS playlist declared as video/mp4',
        'video/mp4',
        () => Buffer.from(hlsPlaylist('file:///etc/passwd')),
        'unsupported_format',
      ],
      [
        'a zero-byte upload',
        'image/png',
        () => Buffer.alloc(0),
        'empty_upload',
        { declaredSize: 100 },
      ],
      [
        'an upload shorter than declared',
        'image/png',
        () => fixture('s.png', (p) => twoToneImage(64, 64, 'png', p)),
        'size_mismatch',
        { declaredSize: 1_000_000 },
      ],
    ];

    it.each(cases)('%s', async (_name, contentType, bytes, code, options = {}) => {
      const before = h.toolCalls().length;
      const { mediaId, event } = await upload(contentType, await bytes(), options);

      const outcome: ProcessOutcome = await processUpload(h.deps(), event);

      const kind = contentType.startsWith('video/') ? 'video' : 'image';
      expect(outcome).toEqual({ status: 'failed', mediaId, kind, code });
      const record = (await getRecord(mediaId))!;
      expect(record.status).toBe('failed');
      expect(record.failure).toEqual({ code, message: expect.any(String) });
      expect(record.failure!.message.length).toBeGreaterThan(10);
      expect(record.gsi1pk).toBeUndefined();
      expect(record.variants).toBeUndefined();
      expect(await listKeys(h.bucket, `staged/${mediaId}/`)).toEqual([]);
      expect(runDirs()).toEqual([]);
      // Sniffing and size checks reject before ffmpeg or ffprobe ever see the file.
      expect(h.toolCalls().slice(before)).toEqual([]);
    });

    it('a missing object', async () => {
      const record = await putMedia({ content_type: 'image/png', size_bytes: 10 });
      const outcome = await processUpload(h.deps(), { bucket: h.bucket, key: record.upload_key });
      expect(outcome).toMatchObject({ status: 'failed', code: 'upload_missing' });
    });
  });

  it('ignores keys that are not media uploads, unknown media and other buckets', async () => {
    expect(await processUpload(h.deps(), { bucket: h.bucket, key: 'uploads/../x' })).toMatchObject({
      status: 'ignored',
      reason: 'not_a_media_upload',
    });
    expect(
      await processUpload(h.deps(), { bucket: h.bucket, key: `uploads/${newId()}` }),
    ).toMatchObject({ status: 'ignored', reason: 'unknown_media' });
    expect(
      await processUpload(h.deps(), { bucket: 'elsewhere', key: `uploads/${newId()}` }),
    ).toMatchObject({ status: 'ignored', reason: 'other_bucket' });
  });
});

describe('the transcoder handler', () => {
  it('survives hostile and irrelevant events', async () => {
    for (const event of [
      null,
      {},
      { Records: 'x' },
      { Records: [null, 1, { eventName: 'ObjectCreated:Put' }] },
      { Event: 's3:TestEvent' },
      {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A', size: 1 } },
          },
        ],
      },
    ]) {
      await expect(transcoderHandler(event)).resolves.toEqual({ processed: 0 });
    }
  });
});
