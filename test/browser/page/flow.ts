/**
 * The browser side of test/browser/upload-flow.test.ts: a tiny web app using the API client as an
 * app would. Bundled with the client by esbuild and served from another origin; compiled with the
 * DOM types (tsconfig.json here), so it stays out of the Node program's type check.
 */
import * as Chirp from '../../../client';
import type { FlowResult, PartsResult } from './result';

/** Runs in the page: the whole flow through the bundled client (global `Chirp`). */
export async function runFlow(api: string, token: string, text: string): Promise<FlowResult> {
  const started = performance.now();
  const canvas = document.getElementById('draw') as HTMLCanvasElement;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  const gradient = context.createLinearGradient(0, 0, canvas.width, canvas.height);
  gradient.addColorStop(0, '#1d9bf0');
  gradient.addColorStop(1, '#f91880');
  context.fillStyle = gradient;
  context.fillRect(0, 0, canvas.width, canvas.height);
  const jpeg = await new Promise<Blob>((done, fail) =>
    canvas.toBlob((blob) => (blob ? done(blob) : fail(new Error('toBlob'))), 'image/jpeg', 0.9),
  );

  const client = Chirp.createChirpClient({ baseUrl: api, token });
  const progress: { loaded: number; total: number }[] = [];
  const tweet = await Chirp.postTweet(
    client,
    { text, media: [{ bytes: jpeg, contentType: 'image/jpeg', altText: 'a gradient' }] },
    {
      onProgress: (_index, p) => progress.push({ loaded: p.loaded, total: p.total }),
      timeoutMs: 30_000,
    },
  );
  const media = tweet.media[0];
  const variant = media?.variants.find(
    (v) => v.name === 'small' && v.content_type === 'image/jpeg',
  );
  if (media === undefined || variant === undefined)
    throw new Error(`no variant: ${JSON.stringify(tweet)}`);

  const img = document.createElement('img');
  img.crossOrigin = 'anonymous';
  img.alt = media.alt_text ?? '';
  await new Promise<void>((done, fail) => {
    img.onload = () => done();
    img.onerror = () => fail(new Error(`img failed: ${variant.url}`));
    img.src = variant.url;
    (document.getElementById('media') as HTMLElement).append(img);
  });
  // Reading pixels of a cross-origin image works only if the CDN allowed this origin.
  const probe = document.createElement('canvas');
  probe.width = img.naturalWidth;
  probe.height = img.naturalHeight;
  const probeContext = probe.getContext('2d') as CanvasRenderingContext2D;
  probeContext.drawImage(img, 0, 0);
  const pixel = Array.from(probeContext.getImageData(0, 0, 1, 1).data);

  const timeline = Chirp.unwrap(
    await client.GET('/v1/timeline', { params: { query: { limit: 10 } } }),
  );
  return {
    tweetId: tweet.tweet_id,
    status: media.status,
    progress,
    variantUrl: variant.url,
    imageSize: [img.naturalWidth, img.naturalHeight],
    pixel,
    timelineIds: timeline.tweets.map((t) => t.tweet_id),
    ms: performance.now() - started,
  };
}

/** Runs in the page: a 40 MiB file through the client's upload helper, which sends it in parts. */
export async function runPartsUpload(api: string, token: string): Promise<PartsResult> {
  const started = performance.now();
  const bytes = new Uint8Array(40 * 1024 * 1024);
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  }
  const client = Chirp.createChirpClient({ baseUrl: api, token });
  const progress: { loaded: number; total: number }[] = [];
  const upload = await Chirp.uploadMedia(
    client,
    { bytes: new Blob([bytes]), contentType: 'video/mp4' },
    { retryDelayMs: 50, onProgress: (p) => progress.push({ loaded: p.loaded, total: p.total }) },
  );
  const media = Chirp.unwrap(
    await client.GET('/v1/media/{media_id}', { params: { path: { media_id: upload.media_id } } }),
  );
  return {
    mediaId: upload.media_id,
    method: upload.upload_method,
    status: media.status,
    progress,
    ms: performance.now() - started,
  };
}

(globalThis as unknown as { runFlow: typeof runFlow }).runFlow = runFlow;
(globalThis as unknown as { runPartsUpload: typeof runPartsUpload }).runPartsUpload =
  runPartsUpload;
