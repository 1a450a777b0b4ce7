/**
 * What the CDN serves, end to end on the local stack (transcoder, metadata stream, media
 * publisher, CDN emulator): media never attached to a tweet is never served; attached media is
 * served once published; a deleted tweet's media leaves the origin at once and an edge that cached
 * it within the edge TTL (MEDIA_SERVING.cdnMaxTtlSeconds, shortened here for a second edge); media
 * detached by a delete while pending is never transcoded to ready.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV, VARIANT_CACHE_CONTROL } from '../../app/model';
import { startCdn } from '../../local/cdn';
import { stagedKey } from '../../lambdas/transcoder/storage';
import { eventually, newUser, type MediaBody, type TestUser } from '../support/api-client';
import { serviceEnv } from '../support/env';
import { generatePng, upload, uploadMedia } from '../support/media';

const env = serviceEnv();
const bucket = env[ENV.mediaBucket] as string;
const credentials = {
  accessKeyId: env.AWS_ACCESS_KEY_ID as string,
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
};
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL_S3,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials,
});
afterAll(() => s3.destroy());

const keyOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** Polls the owner's view of a media until its status is `status`. */
function mediaStatus(user: TestUser, mediaId: string, status: string): Promise<MediaBody> {
  return eventually(
    `media ${mediaId} to be ${status}`,
    async () => {
      const media = (await user.getMedia(mediaId)).body;
      if (media.status === 'failed' && status !== 'failed') {
        throw new Error(JSON.stringify(media.failure));
      }
      return media.status === status ? media : undefined;
    },
    30_000,
    100,
  );
}

describe('what the CDN serves', () => {
  it('never serves media that was not attached; serves it once its tweet is created', async () => {
    const user = newUser('serve-attach');
    const init = await uploadMedia(user, await generatePng(64, 48));
    const processed = await mediaStatus(user, init.media_id, 'ready');
    expect(processed.variants.length).toBeGreaterThan(0);
    for (const variant of processed.variants) {
      // Processed, but only into the staged prefix, which no distribution serves.
      expect(await exists(stagedKey(keyOf(variant.url)))).toBe(true);
      expect(await exists(keyOf(variant.url))).toBe(false);
      expect((await fetch(variant.url)).status).toBe(403);
    }

    const created = await user.createTweet({ text: 'now public', media_ids: [init.media_id] });
    expect(created.status).toBe(201);
    // Until published, the tweet shows its media processing, so no client gets a dead URL.
    expect(created.body.media[0]?.status).toBe('processing');
    expect(created.body.media[0]?.variants).toEqual([]);
    const published = await mediaStatus(user, init.media_id, 'ready');
    for (const variant of published.variants) {
      const response = await fetch(variant.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe(VARIANT_CACHE_CONTROL);
      expect(Buffer.from(await response.arrayBuffer()).length).toBe(variant.bytes);
    }
  });

  it("stops serving a deleted tweet's media: the origin at once, a caching edge within its TTL", async () => {
    const edgeTtlSeconds = 6;
    // A second edge, with the cache policy's TTL shortened so the test can outlive it.
    const edge = await startCdn({
      port: 0,
      bucket,
      s3Endpoint: env.AWS_ENDPOINT_URL_S3 as string,
      region: env.AWS_REGION as string,
      credentials,
      log: () => undefined,
      maxTtlSeconds: edgeTtlSeconds,
    });
    try {
      const user = newUser('serve-delete');
      const init = await uploadMedia(user, await generatePng(48, 32));
      const tweet = await user.createTweet({ text: 'soon gone', media_ids: [init.media_id] });
      expect(tweet.status).toBe(201);
      const ready = await mediaStatus(user, init.media_id, 'ready');
      const variant = ready.variants[0]!;
      const path = new URL(variant.url).pathname;
      const cachedAt = Date.now();
      const first = await fetch(`${edge.url}${path}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('Miss from cloudfront');
      await first.arrayBuffer();

      expect((await user.deleteTweet(tweet.body.tweet_id)).status).toBe(204);
      await eventually('the served copies to be withdrawn', async () =>
        (await exists(keyOf(variant.url))) ? undefined : true,
      );
      // The stack's edge never cached it: refused as soon as the origin copy is gone.
      expect((await fetch(variant.url)).status).toBe(403);
      // The edge that cached it serves its copy until the TTL runs out, then refuses.
      const cached = await fetch(`${edge.url}${path}`);
      expect(Date.now() - cachedAt).toBeLessThan(edgeTtlSeconds * 1000);
      expect(cached.status).toBe(200);
      expect(cached.headers.get('x-cache')).toBe('Hit from cloudfront');
      await cached.arrayBuffer();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, cachedAt + edgeTtlSeconds * 1000 + 100 - Date.now())),
      );
      expect((await fetch(`${edge.url}${path}`)).status).toBe(403);
      // The owner still sees the record (for the sweeper to remove), no longer served.
      expect((await user.getMedia(init.media_id)).body.status).toBe('ready');
    } finally {
      await edge.close();
    }
  });

  it('never transcodes media to ready once its tweet was deleted while it was pending', async () => {
    const user = newUser('serve-pending');
    const png = await generatePng(40, 30);
    const init = (await user.initSinglePut({ content_type: 'image/png', size_bytes: png.length }))
      .body;
    const tweet = await user.createTweet({ text: 'pending', media_ids: [init.media_id] });
    expect(tweet.status).toBe(201);
    expect((await user.deleteTweet(tweet.body.tweet_id)).status).toBe(204);

    // The upload URL is still valid: the bytes arrive after the delete.
    expect((await upload(init, png)).status).toBe(200);
    const failed = await mediaStatus(user, init.media_id, 'failed');
    expect(failed.failure?.code).toBe('tweet_deleted');
    expect(failed.variants).toEqual([]);
  });
});
