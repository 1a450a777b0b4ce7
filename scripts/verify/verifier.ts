/**
 * The post-deploy check: drives a deployment (or the local stack) end to end as a client would,
 * through the generated API client, the presigned upload and the CDN, records every check with its
 * timing, and deletes what it made whatever happened. The target decides only where the API, the
 * CDN and the users' tokens come from (targets.ts); the checks are the same everywhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { MEDIA_PREFIXES } from '../../app/model';
import {
  createChirpClient,
  unwrap,
  uploadMedia,
  type ChirpClient,
  type Media,
  type MediaUpload,
  type Tweet,
} from '../../client';
import { tokenSubject, type TemporaryUser } from './identities';
import type { VerifyTarget } from './targets';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

export interface VerifyReport {
  /** True only if every check and every cleanup step held. */
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  /** The cleanup steps, which run after a failure too. */
  readonly cleanup: readonly CheckResult[];
  /** Milliseconds, by what was timed (see TIMING). */
  readonly timings: Readonly<Partial<Record<TimingName, number>>>;
  /** What the run created, by id. */
  readonly created: {
    readonly users: readonly TemporaryUser[];
    readonly mediaIds: readonly string[];
    readonly tweetIds: readonly string[];
  };
  readonly totalMs: number;
}

export interface VerifyOptions {
  /** Progress lines; @default none */
  readonly print?: (line: string) => void;
  /** Longest wait for each media to be processed. @default 180000 (the transcoder's cold start and a retry) */
  readonly processingTimeoutMs?: number;
  /** Longest wait for the tweet in the follower's timeline. @default 60000 */
  readonly fanoutTimeoutMs?: number;
  /** Between polls; also the resolution of the processing and fanout timings. @default 500 */
  readonly pollIntervalMs?: number;
  /** Stops the checks (Ctrl-C): the run records it as a failure and cleans up. */
  readonly signal?: AbortSignal;
}

export const TIMING = {
  uploadImage: 'upload image (init + PUT)',
  uploadVideo: 'upload video (init + PUT)',
  processImage: 'processing image (PUT done -> ready)',
  processVideo: 'processing video (PUT done -> ready)',
  fanout: 'fanout visibility (201 -> in follower timeline, slower tweet)',
} as const;
type TimingName = (typeof TIMING)[keyof typeof TIMING];

/** The short video uploaded: 2 s, 320x180, H.264 + AAC (scripts/verify/fixtures/README.md). */
const VIDEO_FIXTURE = join(__dirname, 'fixtures', 'clip.mp4');
const VIDEO_SIZE = { width: 320, height: 180, durationMs: 2000 } as const;
const IMAGE_SIZE = { width: 1200, height: 800 } as const;
/** Processed media keys are content-addressed: the CDN must let browsers keep them a year. */
const MIN_MEDIA_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

/** A failed step: already recorded; the run stops and cleans up. */
class StepFailed extends Error {}

/** An answer polling further cannot change (e.g. media that ended `failed`). */
class GiveUp extends Error {}

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const seconds = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

class Recorder {
  readonly checks: CheckResult[] = [];
  readonly cleanup: CheckResult[] = [];

  constructor(
    private readonly print: (line: string) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  private record(list: CheckResult[], result: CheckResult): void {
    list.push(result);
    const mark = result.ok ? '  ok ' : ' FAIL';
    this.print(`${mark}  ${result.name}: ${result.detail} (${seconds(result.ms)})`);
  }

  /** Runs `run`; a failure is recorded and stops the run (StepFailed). */
  async step<T>(name: string, run: () => Promise<T>, detail: (value: T) => string): Promise<T> {
    const started = Date.now();
    try {
      if (this.signal?.aborted) throw new Error('interrupted');
      const value = await run();
      this.record(this.checks, { name, ok: true, detail: detail(value), ms: Date.now() - started });
      return value;
    } catch (error) {
      this.record(this.checks, {
        name,
        ok: false,
        detail: message(error),
        ms: Date.now() - started,
      });
      throw new StepFailed(name);
    }
  }

  /** Runs `run` (which returns its detail or throws); a failure is recorded and the run goes on. */
  async check(
    name: string,
    run: () => string | Promise<string>,
    list = this.checks,
  ): Promise<boolean> {
    const started = Date.now();
    try {
      this.record(list, { name, ok: true, detail: await run(), ms: Date.now() - started });
      return true;
    } catch (error) {
      this.record(list, { name, ok: false, detail: message(error), ms: Date.now() - started });
      return false;
    }
  }
}

/** A 1200x800 JPEG (gradient and a circle): a real photo-like input for the image pipeline. */
async function testImage(runId: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${IMAGE_SIZE.width}" height="${IMAGE_SIZE.height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1d9bf0"/><stop offset="1" stop-color="#0f1419"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="600" cy="400" r="220" fill="#ffffff" fill-opacity="0.85"/>
    <text x="600" y="425" font-size="64" text-anchor="middle" fill="#1d9bf0" font-family="sans-serif">verify ${runId}</text>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** Calls `probe` every `intervalMs` until it returns a value; the last error explains a timeout. */
async function poll<T>(
  what: string,
  timing: {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly signal?: AbortSignal;
  },
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const { timeoutMs, intervalMs, signal } = timing;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (signal?.aborted) throw new GiveUp(`${what}: stopped`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = message(error);
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${seconds(timeoutMs)} (${last})`);
    await sleep(intervalMs);
  }
}

function cacheControlProblem(value: string | null): string | undefined {
  if (value === null) return 'no cache-control';
  const directives = value.split(',').map((part) => part.trim().toLowerCase());
  const maxAge = Number(
    /^max-age=(\d+)$/.exec(directives.find((d) => d.startsWith('max-age=')) ?? '')?.[1],
  );
  if (!directives.includes('public')) return `cache-control "${value}" is not public`;
  if (!directives.includes('immutable')) return `cache-control "${value}" is not immutable`;
  if (!(maxAge >= MIN_MEDIA_MAX_AGE_SECONDS)) {
    return `cache-control "${value}" keeps it less than a year`;
  }
  return undefined;
}

/** One processed variant as the CDN serves it: status, headers and bytes as the API described. */
async function checkVariant(cdnUrl: string, variant: Media['variants'][number]): Promise<string> {
  const problems: string[] = [];
  if (!variant.url.startsWith(`${cdnUrl}/`)) {
    problems.push(`its URL ${variant.url} is not on the stack's CDN ${cdnUrl}`);
  }
  const response = await fetch(variant.url);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`${variant.url}: HTTP ${response.status}`);
  const contentType = response.headers.get('content-type');
  if (contentType !== variant.content_type) {
    problems.push(`content-type ${contentType}, the API says ${variant.content_type}`);
  }
  const cacheProblem = cacheControlProblem(response.headers.get('cache-control'));
  if (cacheProblem !== undefined) problems.push(cacheProblem);
  if (response.headers.get('x-content-type-options') !== 'nosniff') {
    problems.push('no x-content-type-options: nosniff');
  }
  if (body.length !== variant.bytes) {
    problems.push(`${body.length} bytes, the API says ${variant.bytes}`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  const cache = response.headers.get('x-cache');
  return (
    `200 ${contentType}, ${body.length} bytes, cache-control "${response.headers.get('cache-control')}"` +
    (cache !== null ? `, x-cache "${cache}"` : '')
  );
}

/** The CDN must not serve an original (uploads/ is the unprocessed, unchecked file). */
async function checkOriginalNotServed(cdnUrl: string, mediaId: string): Promise<string> {
  const url = `${cdnUrl}/${MEDIA_PREFIXES.uploads}${mediaId}`;
  const response = await fetch(url);
  await response.arrayBuffer();
  if (response.status !== 403 && response.status !== 404) {
    throw new Error(`${url}: HTTP ${response.status}, expected 403 or 404`);
  }
  return `${url}: ${response.status}`;
}

interface Uploaded {
  readonly upload: MediaUpload;
  /** When the PUT finished: the S3 event, and so processing, starts then. */
  readonly putDoneAt: number;
  readonly bytes: number;
}

export async function verifyDeployment(
  target: VerifyTarget,
  runId: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const print = options.print ?? (() => undefined);
  const processingTimeoutMs = options.processingTimeoutMs ?? 180_000;
  const fanoutTimeoutMs = options.fanoutTimeoutMs ?? 60_000;
  const interval = options.pollIntervalMs ?? 500;
  const started = Date.now();
  const rec = new Recorder(print, options.signal);
  const timings: Partial<Record<TimingName, number>> = {};
  const users: TemporaryUser[] = [];
  const mediaIds: string[] = [];
  const tweets: { readonly id: string; readonly api: ChirpClient }[] = [];
  const follows: { readonly api: ChirpClient; readonly followee: string }[] = [];
  const { identities } = target;
  // The waits run alongside other steps; a failure elsewhere stops them before the cleanup.
  const stopWaits = new AbortController();
  const waitSignal =
    options.signal !== undefined
      ? AbortSignal.any([stopWaits.signal, options.signal])
      : stopWaits.signal;
  const waitTiming = { intervalMs: interval, signal: waitSignal };
  const pending: Promise<unknown>[] = [];
  /** Tracks a wait started now and awaited later (its failure is already recorded). */
  const waitFor = <T>(wait: Promise<T>): Promise<T> => {
    pending.push(wait.catch(() => undefined));
    return wait;
  };

  print(`Verifying ${target.name} (run ${runId})`);
  print(`  API         ${target.apiUrl}`);
  print(`  CDN         ${target.cdnUrl}`);
  print(`  Identities  ${identities.description}`);
  print('');

  const signedIn = async (name: string): Promise<{ user: TemporaryUser; api: ChirpClient }> => {
    const user = await rec.step(
      `create user "${name}"`,
      async () => {
        const created = await identities.createUser(name);
        users.push(created);
        return created;
      },
      (created) => `${created.username} (user id ${created.userId})`,
    );
    const token = await rec.step(
      `sign in "${name}"`,
      async () => {
        const token = await identities.signIn(user);
        const subject = tokenSubject(token);
        if (subject !== user.userId) {
          throw new Error(`the token's sub is ${subject}, the user's id ${user.userId}`);
        }
        return token;
      },
      (token) => `bearer token of ${token.length} characters, sub ${user.userId}`,
    );
    const api = createChirpClient({ baseUrl: target.apiUrl, token });
    // As an app does after sign-in: the first call creates the user (only then can others follow them).
    await rec.step(
      `"${name}" reads their profile (first call creates the user)`,
      async () => {
        const { data, response } = await api.GET('/v1/me', {});
        if (response.status !== 200 || data === undefined) {
          throw new Error(`GET /v1/me: HTTP ${response.status}`);
        }
        return data.handle;
      },
      (handle) => `GET /v1/me: 200, handle ${handle}`,
    );
    return { user, api };
  };

  const upload = async (
    what: 'image' | 'video',
    api: ChirpClient,
    file: { bytes: Buffer; contentType: string; altText: string },
  ): Promise<Uploaded> => {
    const begun = Date.now();
    const result = await rec.step(
      `upload ${what} through the presigned URL`,
      async () => {
        const init = await uploadMedia(api, file);
        mediaIds.push(init.media_id);
        return init;
      },
      (init) => `media ${init.media_id}, ${file.contentType}, ${file.bytes.length} bytes`,
    );
    const putDoneAt = Date.now();
    timings[what === 'image' ? TIMING.uploadImage : TIMING.uploadVideo] = putDoneAt - begun;
    return { upload: result, putDoneAt, bytes: file.bytes.length };
  };

  const processed = (what: 'image' | 'video', api: ChirpClient, uploaded: Uploaded) =>
    rec.step(
      `${what} processed (transcoder)`,
      async () => {
        const mediaId = uploaded.upload.media_id;
        const media = await poll(
          `media ${mediaId} ready`,
          { ...waitTiming, timeoutMs: processingTimeoutMs },
          async () => {
            const current = unwrap(
              await api.GET('/v1/media/{media_id}', { params: { path: { media_id: mediaId } } }),
            );
            if (current.status === 'failed') {
              throw new GiveUp(`failed: ${current.failure?.code} (${current.failure?.message})`);
            }
            return current.status === 'ready' ? current : undefined;
          },
        );
        timings[what === 'image' ? TIMING.processImage : TIMING.processVideo] =
          Date.now() - uploaded.putDoneAt;
        return media;
      },
      (media) =>
        `ready, ${media.width}x${media.height}` +
        (media.duration_ms !== undefined ? `, ${media.duration_ms} ms` : '') +
        `, variants ${media.variants.map((v) => v.name).join(', ')}`,
    );

  try {
    await rec.check('an unauthenticated call is refused', async () => {
      const anonymous = createChirpClient({ baseUrl: target.apiUrl });
      const { response } = await anonymous.GET('/v1/timeline', {});
      if (response.status !== 401)
        throw new Error(`GET /v1/timeline without a token: HTTP ${response.status}`);
      return 'GET /v1/timeline without a token: 401';
    });

    const author = await signedIn('author');
    const follower = await signedIn('follower');

    await rec.step(
      'follower follows author',
      async () => {
        const { response } = await follower.api.PUT('/v1/users/{user_id}/follow', {
          params: { path: { user_id: author.user.userId } },
        });
        if (response.status !== 204) throw new Error(`PUT follow: HTTP ${response.status}`);
        follows.push({ api: follower.api, followee: author.user.userId });
      },
      () => `PUT /v1/users/${author.user.userId}/follow: 204`,
    );

    // Each wait starts as soon as what it waits for exists (the transcoder from the PUT, the fanout
    // from the tweet), so a slow step elsewhere does not inflate its timing; they overlap, as for
    // a user.
    const image = await upload('image', author.api, {
      bytes: await testImage(runId),
      contentType: 'image/jpeg',
      altText: 'A white circle on a blue gradient (chirp verify)',
    });
    const imageReady = waitFor(processed('image', author.api, image));
    const video = await upload('video', author.api, {
      bytes: readFileSync(VIDEO_FIXTURE),
      contentType: 'video/mp4',
      altText: 'A two-second test pattern with a tone (chirp verify)',
    });
    const videoReady = waitFor(processed('video', author.api, video));

    // A video is the only media of its tweet (the API's rule), so one tweet each.
    const post = (what: 'image' | 'video', uploaded: Uploaded) =>
      rec.step(
        `create a tweet with the ${what}`,
        async () => {
          const { data, error, response } = await author.api.POST('/v1/tweets', {
            body: { text: `chirp verify ${runId}: ${what}`, media_ids: [uploaded.upload.media_id] },
          });
          if (data !== undefined) tweets.push({ id: data.tweet_id, api: author.api });
          if (response.status !== 201) {
            throw new Error(`POST /v1/tweets: HTTP ${response.status} ${JSON.stringify(error)}`);
          }
          return unwrap({ data, error, response });
        },
        (tweet) => `tweet ${tweet.tweet_id}: 201`,
      );
    const fannedOut: Promise<number>[] = [];
    const visible = (what: 'image' | 'video', tweet: Tweet) => {
      const createdAt = Date.now();
      return rec.step(
        `the ${what} tweet in the follower's home timeline (fanout)`,
        async () => {
          await poll(
            'the tweet in the home timeline',
            { ...waitTiming, timeoutMs: fanoutTimeoutMs },
            async () => {
              const page = unwrap(
                await follower.api.GET('/v1/timeline', { params: { query: {} } }),
              );
              return page.tweets.some((t) => t.tweet_id === tweet.tweet_id) ? true : undefined;
            },
          );
          const after = Date.now() - createdAt;
          timings[TIMING.fanout] = Math.max(after, timings[TIMING.fanout] ?? 0);
          return after;
        },
        (after) => `after ${seconds(after)}`,
      );
    };
    const imageTweet = await post('image', image);
    fannedOut.push(waitFor(visible('image', imageTweet)));
    const videoTweet = await post('video', video);
    fannedOut.push(waitFor(visible('video', videoTweet)));

    const [imageResult, videoResult] = await Promise.allSettled([imageReady, videoReady]);
    const fanout = await Promise.allSettled(fannedOut);
    if (
      imageResult.status !== 'fulfilled' ||
      videoResult.status !== 'fulfilled' ||
      fanout.some((result) => result.status !== 'fulfilled')
    ) {
      throw new StepFailed('waits');
    }
    const readyImage = imageResult.value;
    const readyVideo = videoResult.value;

    await rec.check('the processed media is what was uploaded', () => {
      const problems: string[] = [];
      if (readyImage.width !== IMAGE_SIZE.width || readyImage.height !== IMAGE_SIZE.height) {
        problems.push(
          `image ${readyImage.width}x${readyImage.height}, uploaded ${IMAGE_SIZE.width}x${IMAGE_SIZE.height}`,
        );
      }
      if (readyVideo.width !== VIDEO_SIZE.width || readyVideo.height !== VIDEO_SIZE.height) {
        problems.push(
          `video ${readyVideo.width}x${readyVideo.height}, uploaded ${VIDEO_SIZE.width}x${VIDEO_SIZE.height}`,
        );
      }
      if (Math.abs((readyVideo.duration_ms ?? 0) - VIDEO_SIZE.durationMs) > 300) {
        problems.push(
          `video lasts ${readyVideo.duration_ms} ms, uploaded ${VIDEO_SIZE.durationMs} ms`,
        );
      }
      if (!readyImage.variants.some((v) => v.content_type.startsWith('image/'))) {
        problems.push('the image has no image variant');
      }
      if (!readyVideo.variants.some((v) => v.name === 'video' && v.content_type === 'video/mp4')) {
        problems.push('the video has no video/mp4 variant');
      }
      if (!readyVideo.variants.some((v) => v.name === 'poster'))
        problems.push('the video has no poster');
      if (problems.length > 0) throw new Error(problems.join('; '));
      return 'sizes, duration and variant types match';
    });

    // Attached media reads `processing` until the media publisher has put its variants on the
    // CDN, a moment after the transcoder (which the owner's media view above may show first).
    await rec.check('the tweets read with their media ready', async () => {
      const states: string[] = [];
      for (const tweet of [imageTweet, videoTweet]) {
        const read = await poll(
          `tweet ${tweet.tweet_id} with its media ready`,
          { ...waitTiming, timeoutMs: processingTimeoutMs },
          async () => {
            const current = unwrap(
              await author.api.GET('/v1/tweets/{tweet_id}', {
                params: { path: { tweet_id: tweet.tweet_id } },
              }),
            );
            if (current.media.length !== 1) {
              throw new GiveUp(`tweet ${tweet.tweet_id}: ${current.media.length} media`);
            }
            return current.media[0]?.status === 'ready' ? current : undefined;
          },
        );
        states.push(...read.media.map((m) => `${m.media_id} ${m.status}`));
      }
      return states.join(', ');
    });

    for (const [what, media] of [
      ['image', readyImage],
      ['video', readyVideo],
    ] as const) {
      for (const variant of media.variants) {
        await rec.check(
          `CDN serves the ${what}'s ${variant.name} variant (${variant.content_type})`,
          () => checkVariant(target.cdnUrl, variant),
        );
      }
      await rec.check(`CDN does not serve the ${what}'s original`, () =>
        checkOriginalNotServed(target.cdnUrl, media.media_id),
      );
    }
  } catch (error) {
    if (!(error instanceof StepFailed)) {
      rec.checks.push({
        name: 'the run',
        ok: false,
        detail: message(error),
        ms: Date.now() - started,
      });
      print(` FAIL  the run stopped: ${message(error)}`);
    }
  } finally {
    stopWaits.abort();
    await Promise.all(pending);
    print('');
    print('Cleaning up');
    for (const tweet of tweets) {
      await rec.check(
        `delete tweet ${tweet.id}`,
        async () => {
          const params = { params: { path: { tweet_id: tweet.id } } };
          const deleted = await tweet.api.DELETE('/v1/tweets/{tweet_id}', params);
          if (deleted.response.status !== 204)
            throw new Error(`DELETE: HTTP ${deleted.response.status}`);
          const read = await tweet.api.GET('/v1/tweets/{tweet_id}', params);
          if (read.response.status !== 404)
            throw new Error(`GET after DELETE: HTTP ${read.response.status}`);
          return 'DELETE 204, then GET 404';
        },
        rec.cleanup,
      );
    }
    if (mediaIds.length > 0) {
      await rec.check(
        `media ${mediaIds.join(', ')}`,
        () =>
          Promise.resolve(
            'attached to no tweet now: the media sweeper removes their objects and records (the API has no media delete)',
          ),
        rec.cleanup,
      );
    }
    for (const follow of follows) {
      await rec.check(
        `unfollow ${follow.followee}`,
        async () => {
          const { response } = await follow.api.DELETE('/v1/users/{user_id}/follow', {
            params: { path: { user_id: follow.followee } },
          });
          if (response.status !== 204) throw new Error(`DELETE follow: HTTP ${response.status}`);
          return 'DELETE 204';
        },
        rec.cleanup,
      );
    }
    for (const user of users) {
      await rec.check(
        `delete user ${user.username}`,
        () => identities.deleteUser(user),
        rec.cleanup,
      );
    }
  }

  const totalMs = Date.now() - started;
  const failed = [...rec.checks, ...rec.cleanup].filter((check) => !check.ok);
  const report: VerifyReport = {
    ok: failed.length === 0,
    checks: rec.checks,
    cleanup: rec.cleanup,
    timings,
    created: { users, mediaIds, tweetIds: tweets.map((t) => t.id) },
    totalMs,
  };
  print('');
  print('Timings');
  const width = Math.max(...Object.values(TIMING).map((name) => name.length));
  for (const name of Object.values(TIMING)) {
    const ms = timings[name];
    print(`  ${name.padEnd(width)}  ${ms === undefined ? '-' : seconds(ms)}`);
  }
  print(`  ${'total'.padEnd(width)}  ${seconds(totalMs)}`);
  print(`  (processing and fanout are polled every ${interval} ms)`);
  print('');
  const count = rec.checks.length + rec.cleanup.length;
  print(
    report.ok
      ? `PASSED: all ${count} checks held.`
      : `FAILED: ${failed.length} of ${count} checks failed: ${failed.map((check) => check.name).join('; ')}`,
  );
  return report;
}
