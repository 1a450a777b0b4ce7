/**
 * `npm run demo`: the upload-and-tweet flow against the running local stack (`npm start`), with a
 * generated image: two users, a follow, media init, the presigned PUT, the tweet, the follower's
 * timeline, the media becoming ready, and the CDN URL of the processed image. It uses the
 * generated API client (client/), as an app would.
 *
 * API_URL (default http://127.0.0.1:3000 or API_PORT) and CHIRP_DATA_DIR select the stack.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import sharp from 'sharp';
import {
  ChirpApiError,
  createChirpClient,
  putUpload,
  unwrap,
  waitForMedia,
  type ChirpClient,
} from '../client';
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

/** The API's answer, or the demo stops with it. */
async function expectOk<T>(
  what: string,
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  try {
    return unwrap(await call);
  } catch (error) {
    if (error instanceof ChirpApiError) fail(`${what}: ${error.message}`);
    fail(`cannot reach ${apiUrl} (${String(error)}). Is \`npm start\` running?`);
  }
}

async function main(): Promise<void> {
  const key = readSigningKey(dataDir);
  if (key === undefined)
    fail(`no signing key in ${dataDir}; start the stack with \`npm start\` first`);
  const run = randomBytes(3).toString('hex');
  const aliceId = `alice-${run}`;
  const bobId = `bob-${run}`;

  step(`Tokens for ${aliceId} and ${bobId} (local identity provider, RS256)`);
  const aliceToken = mintToken(key, aliceId);
  const alice: ChirpClient = createChirpClient({ baseUrl: apiUrl, token: aliceToken });
  const bob: ChirpClient = createChirpClient({ baseUrl: apiUrl, token: mintToken(key, bobId) });
  detail(`${aliceToken.slice(0, 40)}...`);

  step(`${aliceId} signs in: GET /v1/me (a user exists from their first call)`);
  const me = await expectOk('GET /v1/me', alice.GET('/v1/me'));
  detail(`handle ${me.handle}`);

  step(`${bobId} follows ${aliceId}`);
  const follow = await bob
    .PUT('/v1/users/{user_id}/follow', { params: { path: { user_id: aliceId } } })
    .catch((error: unknown) =>
      fail(`cannot reach ${apiUrl} (${String(error)}). Is \`npm start\` running?`),
    );
  if (follow.response.status !== 204) fail(`follow: HTTP ${follow.response.status}`);
  detail('204 No Content');

  step('Generate an image with sharp');
  const image = await generateImage();
  detail(`image/jpeg, 1200x800, ${image.length} bytes`);

  step('POST /v1/media/init');
  const init = await expectOk(
    'media init',
    alice.POST('/v1/media/init', {
      body: {
        content_type: 'image/jpeg',
        size_bytes: image.length,
        alt_text: 'A white circle on a blue gradient, with the word chirp',
      },
    }),
  );
  detail(`media_id ${init.media_id}, status ${init.status}, expires ${init.expires_at}`);
  if (init.upload_method !== 'PUT') fail(`expected a single PUT for ${image.length} bytes`);
  detail(`upload headers ${JSON.stringify(init.upload_headers)}`);

  step('PUT the bytes to the presigned URL, with exactly the upload headers');
  await putUpload(init, image).catch((error: unknown) => fail(`upload: ${String(error)}`));
  detail('HTTP 200');

  step('POST /v1/tweets with the media');
  const tweet = await expectOk(
    'create tweet',
    alice.POST('/v1/tweets', {
      body: { text: `Hello from the Chirp demo (${run})`, media_ids: [init.media_id] },
    }),
  );
  const posted = Date.now();
  detail(`tweet_id ${tweet.tweet_id}, media status ${tweet.media[0]?.status}`);

  step(`Wait for the tweet in ${bobId}'s home timeline (fanout from the DynamoDB stream)`);
  await poll('the follower timeline', 10_000, async () => {
    const page = await expectOk('timeline', bob.GET('/v1/timeline'));
    return page.tweets.some((t) => t.tweet_id === tweet.tweet_id) ? true : undefined;
  });
  detail(`there after ${Date.now() - posted} ms`);

  step(
    'Wait for the media to be ready (transcoder from the S3 event), polling after check_after_secs',
  );
  const ready = await waitForMedia(alice, init.media_id, { timeoutMs: 60_000 }).catch(
    (error: unknown) => fail(String(error)),
  );
  if (ready.status === 'failed') fail(`media failed: ${JSON.stringify(ready.failure)}`);
  detail(`ready after ${Date.now() - posted} ms: ${ready.width}x${ready.height}`);
  for (const variant of ready.variants) {
    detail(
      `${variant.name.padEnd(8)} ${variant.width}x${variant.height} ${variant.content_type} ${variant.bytes} bytes`,
    );
  }

  step('Fetch the processed media from the CDN');
  const largest = [...ready.variants].sort((a, b) => b.width - a.width)[0];
  if (largest === undefined) fail('the ready media has no variants');
  const cdn = await fetch(largest.url);
  detail(
    `HTTP ${cdn.status}, ${cdn.headers.get('content-type')}, cache-control: ${cdn.headers.get('cache-control')}, x-cache: ${cdn.headers.get('x-cache')}`,
  );
  if (cdn.status !== 200) fail('the CDN did not serve the processed media');

  process.stdout.write(`\nDone. Processed media on the CDN:\n${largest.url}\n`);
}

main().catch((error: unknown) =>
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
