/**
 * `npm run demo`: the upload-and-tweet flow against the running local stack (`npm start`), with a
 * generated image: two users, a follow, media init, the presigned PUT, the tweet, the follower's
 * timeline, the media becoming ready, and the CDN URL of the processed image.
 *
 * API_URL (default http://127.0.0.1:3000 or API_PORT) and CHIRP_DATA_DIR select the stack.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_API_PORT, DEFAULT_DATA_DIR } from './defaults';
import { mintToken, readSigningKey } from './jwt';

const apiUrl = (
  process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? DEFAULT_API_PORT}`
).replace(/\/+$/, '');
const dataDir = resolve(process.env.CHIRP_DATA_DIR ?? DEFAULT_DATA_DIR);

let stepNumber = 0;
const step = (text: string) => process.stdout.write(`\n${++stepNumber}. ${text}\n`);
const detail = (text: string) => process.stdout.write(`   ${text}\n`);

function fail(message: string): never {
  process.stderr.write(`\ndemo failed: ${message}\n`);
  process.exit(1);
}

interface Json {
  [key: string]: unknown;
}

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).catch((error: unknown) =>
    fail(`cannot reach ${apiUrl} (${String(error)}). Is \`npm start\` running?`),
  );
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
}

function expectStatus(what: string, actual: { status: number; body: Json }, expected: number) {
  if (actual.status !== expected)
    fail(`${what}: HTTP ${actual.status} ${JSON.stringify(actual.body)}`);
}

/** A 1200x800 gradient with a circle: a real image for the transcoder to work on. */
async function generateImage(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1d9bf0"/><stop offset="1" stop-color="#0f1419"/></linearGradient></defs>
    <rect width="1200" height="800" fill="url(#g)"/>
    <circle cx="600" cy="400" r="220" fill="#ffffff" fill-opacity="0.85"/>
    <text x="600" y="425" font-size="72" text-anchor="middle" fill="#1d9bf0" font-family="sans-serif">chirp</text>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const started = Date.now();
  let polls = 0;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      if (polls >= 5) process.stdout.write('\n');
      return value;
    }
    if (Date.now() - started > timeoutMs) fail(`timed out waiting for ${what}`);
    // A dot every half second while waiting.
    if (++polls % 5 === 0) process.stdout.write(polls === 5 ? '   waiting .' : '.');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const key = readSigningKey(dataDir);
  if (key === undefined)
    fail(`no signing key in ${dataDir}; start the stack with \`npm start\` first`);
  const run = randomBytes(3).toString('hex');
  const alice = { id: `alice-${run}`, token: '' };
  const bob = { id: `bob-${run}`, token: '' };

  step(`Tokens for ${alice.id} and ${bob.id} (local identity provider, RS256)`);
  alice.token = mintToken(key, alice.id);
  bob.token = mintToken(key, bob.id);
  detail(`${alice.token.slice(0, 40)}...`);

  step(`${bob.id} follows ${alice.id}`);
  expectStatus('follow', await call('PUT', `/v1/users/${alice.id}/follow`, bob.token), 204);
  detail('204 No Content');

  step('Generate an image with sharp');
  const image = await generateImage();
  detail(`image/jpeg, 1200x800, ${image.length} bytes`);

  step('POST /v1/media/init');
  const init = await call('POST', '/v1/media/init', alice.token, {
    content_type: 'image/jpeg',
    size_bytes: image.length,
    alt_text: 'A white circle on a blue gradient, with the word chirp',
  });
  expectStatus('media init', init, 201);
  const mediaId = String(init.body.media_id);
  const uploadHeaders = init.body.upload_headers as Record<string, string>;
  detail(
    `media_id ${mediaId}, status ${String(init.body.status)}, expires ${String(init.body.expires_at)}`,
  );
  detail(`upload headers ${JSON.stringify(uploadHeaders)}`);

  step('PUT the bytes to the presigned URL, with exactly the upload headers');
  const put = await fetch(String(init.body.upload_url), {
    method: String(init.body.upload_method),
    headers: uploadHeaders,
    body: image,
  });
  if (put.status !== 200) fail(`upload: HTTP ${put.status} ${await put.text()}`);
  detail(`HTTP ${put.status}, ETag ${put.headers.get('etag')}`);

  step('POST /v1/tweets with the media');
  const tweet = await call('POST', '/v1/tweets', alice.token, {
    text: `Hello from the Chirp demo (${run})`,
    media_ids: [mediaId],
  });
  expectStatus('create tweet', tweet, 201);
  const tweetId = String(tweet.body.tweet_id);
  const posted = Date.now();
  const media = (tweet.body.media as Json[])[0];
  detail(`tweet_id ${tweetId}, media status ${String(media?.status)}`);

  step(`Wait for the tweet in ${bob.id}'s home timeline (fanout from the DynamoDB stream)`);
  await poll('the follower timeline', 10_000, async () => {
    const page = await call('GET', '/v1/timeline', bob.token);
    return (page.body.tweets as Json[] | undefined)?.some((t) => t.tweet_id === tweetId)
      ? true
      : undefined;
  });
  detail(`there after ${Date.now() - posted} ms`);

  step('Wait for the media to be ready (transcoder from the S3 event)');
  const ready = await poll('the media to be ready', 60_000, async () => {
    const current = await call('GET', `/v1/media/${mediaId}`, alice.token);
    if (current.body.status === 'failed')
      fail(`media failed: ${JSON.stringify(current.body.failure)}`);
    return current.body.status === 'ready' ? current.body : undefined;
  });
  detail(`ready after ${Date.now() - posted} ms: ${String(ready.width)}x${String(ready.height)}`);
  const variants = (ready.variants as Json[] | undefined) ?? [];
  for (const variant of variants) {
    detail(
      `${String(variant.name).padEnd(8)} ${String(variant.width)}x${String(variant.height)} ${String(variant.content_type)} ${String(variant.bytes)} bytes`,
    );
  }

  step('Fetch the processed media from the CDN');
  const largest = [...variants].sort((a, b) => Number(b.width) - Number(a.width))[0];
  if (largest === undefined) fail('the ready media has no variants');
  const cdn = await fetch(String(largest.url));
  detail(
    `HTTP ${cdn.status}, ${cdn.headers.get('content-type')}, cache-control: ${cdn.headers.get('cache-control')}, x-cache: ${cdn.headers.get('x-cache')}`,
  );
  if (cdn.status !== 200) fail('the CDN did not serve the processed media');

  process.stdout.write(`\nDone. Processed media on the CDN:\n${String(largest.url)}\n`);
}

main().catch((error: unknown) =>
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
