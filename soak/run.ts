/**
 * `npm run soak`: load, faults and a full read-back against a private local stack.
 *
 *   npm run soak                          60 s, 8 clients, 16 users
 *   npm run soak -- --duration 300 --clients 16
 *   SOAK_SECONDS=20 npm run soak
 *   npm run soak -- --json result.json    also write the figures as JSON
 *   npm run soak -- --keep-data           keep the stack's data dir for a post-mortem
 *   npm run soak -- --self-check          break one timeline entry first: the run must fail on it
 *   npm run soak -- --celebrity-threshold 3   authors with > 3 followers are merged at read time
 *
 * It starts its own stack (DynamoDB Local on a temp dbPath, S3 emulator, redis-server, API
 * emulator, stream pump, S3 event delivery, CDN) in this process on free ports, runs concurrent
 * clients while injecting faults on a schedule, lets the pipelines drain, verifies everything by
 * reading it back, prints a table and exits non-zero if a goal fails.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ENV, LIMITS } from '../app/model';
import { fanoutFaults } from './faults/fanout-state';
import { FaultInjector, type VictimPlan } from './faults';
import { Ledger } from './ledger';
import { LoadClient, runLoad } from './load';
import { formatTable, summarize, type SoakResult } from './report';
import { startSoakStack, type SoakStack } from './stack';
import { Verifier } from './verify';
import { LOAD_DRIVER_ENV } from '../local/defaults';

export interface SoakOptions {
  readonly durationSeconds: number;
  readonly clients: number;
  readonly users: number;
  /** DynamoDB Local stays down this long per outage. */
  readonly dynamoDownMs: number;
  readonly keepData: boolean;
  /**
   * Checks the checker: removes one acknowledged tweet from a follower's built home timeline in
   * Redis before verifying, so the run must report exactly that loss (and none after the rebuild).
   */
  readonly selfCheck?: boolean;
  /**
   * FANOUT_MAX_FOLLOWERS for the run: with a small value, popular soak users cross it (both ways)
   * while they tweet, so merge-at-read timelines are checked too. @default the app's default
   */
  readonly celebrityThreshold?: number;
  /**
   * TIMELINE_MAX_ENTRIES for the run: a depth the load fills within seconds, so timelines are cut
   * and then lose entries to unfollows and deletes, as full ones do in production.
   * @default the app's default (800)
   */
  readonly timelineDepth?: number;
  /** Where the handlers' own log lines go. */
  readonly handlerLogFile: string;
  readonly log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  log: (l: string) => void,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(250);
  }
  log(`gave up waiting for ${what} after ${timeoutMs} ms`);
  return false;
}

/** Waits until the stream pump has delivered nothing new for `quietMs`. */
async function streamQuiet(
  stack: SoakStack,
  quietMs: number,
  timeoutMs: number,
  log: (l: string) => void,
) {
  let last = stack.streamDelivered();
  let since = Date.now();
  return waitUntil(
    'the tweets stream to drain',
    () => {
      const now = stack.streamDelivered();
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    timeoutMs,
    log,
  );
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log } = options;
  const started = Date.now();
  let fanoutDropped = 0;
  const stackLog = (line: string) => {
    const dropped = /^fanout: dropping (\d+) record/.exec(line);
    if (dropped !== null) fanoutDropped += Number(dropped[1]);
    if (/dropping|dropped|failed after/i.test(line)) log(`  stack: ${line}`);
  };
  // Handlers run in this process and log JSON lines to stdout. Outages make them log errors by
  // design (e.g. an interrupted upload that will be retried); those go to a file, and only the
  // route handlers' unhandled errors (the ones behind a 500) are reported.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const handlerLog = handlerLogCapture(options.handlerLogFile);
  log(
    'starting a private local stack (DynamoDB Local with a dbPath, S3 emulator, Redis, API, pumps, CDN)',
  );
  const stack = await startSoakStack({
    log: stackLog,
    keepData: options.keepData,
    env: {
      ...LOAD_DRIVER_ENV,
      ...(options.celebrityThreshold !== undefined
        ? { [ENV.fanoutMaxFollowers]: String(options.celebrityThreshold) }
        : {}),
      ...(options.timelineDepth !== undefined
        ? { [ENV.timelineMaxEntries]: String(options.timelineDepth) }
        : {}),
    },
  });
  log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s: API ${stack.apiUrl}`);
  try {
    const runTag = randomBytes(4).toString('hex');
    const users = Array.from({ length: options.users }, (_, i) => `soak-${runTag}-u${i}`);
    const ledger = new Ledger(users);
    const injector = new FaultInjector(stack, ledger, (line) => log(`  ${line}`));
    const smallImage = await sharp({
      create: { width: 48, height: 32, channels: 3, background: { r: 30, g: 144, b: 255 } },
    })
      .png()
      .toBuffer();
    // Large and noisy, so its processing takes long enough to be killed in the middle.
    const bigImage = await sharp({
      create: {
        width: 2400,
        height: 1800,
        channels: 3,
        background: { r: 128, g: 128, b: 128 },
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg({ quality: 92 })
      .toBuffer();

    const durationMs = options.durationSeconds * 1000;
    const loadStart = Date.now();
    const deadline = loadStart + durationMs;
    const loadOptions = {
      apiUrl: stack.apiUrl,
      ledger,
      token: stack.token,
      clients: options.clients,
      deadline,
      keepGoing: () => !scheduleDone,
      image: smallImage,
      runTag,
    };
    // A user exists from their first call, and only users who exist can be followed or listed:
    // every soak user calls once before the load starts, as every real user has.
    const firstCalls = new LoadClient(loadOptions);
    const answers = await Promise.all(
      users.map((user) =>
        firstCalls.callUntilAnswered('me', user, 'GET', '/v1/me', {}, Date.now() + 30_000),
      ),
    );
    if (answers.some((response) => response?.status !== 200)) {
      throw new Error('a soak user could not make their first call (GET /v1/me)');
    }

    const victim = async (plan: VictimPlan) => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        let killed: Promise<boolean> | undefined;
        const client = new LoadClient({
          ...loadOptions,
          onMediaUpload: (mediaId) => {
            killed = injector.markVictim(mediaId, plan);
          },
        });
        await client.mediaTweet(bigImage, 'image/jpeg');
        if (killed !== undefined && (await killed)) return;
      }
    };

    // Faults run one after another, spread over the run, so each is observed on its own (a kill
    // of a transcoder run must not land in a DynamoDB outage). DynamoDB goes down again after
    // Redis came back, so the fanout (not a rebuild) must carry the tweets made around that
    // outage into the timelines the verifier reads first. Load continues until the last fault
    // is over, even past the nominal duration.
    const steps: [string, () => Promise<unknown>][] = [
      ['transcoder run killed, then retried', () => victim('kill_then_retry')],
      ['Redis killed', () => injector.restartRedis()],
      ['DynamoDB stopped', () => injector.restartDynamo(options.dynamoDownMs)],
      ['Redis killed', () => injector.restartRedis()],
      ['transcoder run killed, never retried', () => victim('kill_never_retry')],
      ['DynamoDB stopped', () => injector.restartDynamo(options.dynamoDownMs)],
    ];
    let scheduleDone = false;
    const schedule = (async () => {
      injector.startStreamFaults();
      await sleep(Math.min(2000, durationMs * 0.05));
      for (let i = 0; i < steps.length; i++) {
        const [, step] = steps[i] as [string, () => Promise<unknown>];
        await step();
        const gap = (deadline - Date.now()) / (steps.length - i);
        await sleep(Math.max(1000, gap));
      }
      scheduleDone = true;
    })().finally(() => {
      scheduleDone = true;
    });

    const progress = setInterval(() => {
      const elapsed = (Date.now() - loadStart) / 1000;
      const errors = ledger.requests.filter((r) => r.status === 0 || r.status >= 500).length;
      const acked = [...ledger.tweets.values()].filter((t) => t.outcome === 'acked').length;
      const down = ledger.windows.filter((w) => w.end === undefined).map((w) => w.kind);
      const faults = [...ledger.faults.values()].reduce((a, b) => a + b, 0);
      log(
        `  ${elapsed.toFixed(0).padStart(4)} s  requests ${ledger.requests.length}  5xx/net ${errors}  ` +
          `acked ${acked}  faults ${faults}${down.length > 0 ? `  [${down.join(', ')}]` : ''}`,
      );
    }, 5000);
    try {
      await runLoad(loadOptions);
      await schedule;
    } finally {
      clearInterval(progress);
    }
    const loadSeconds = (Date.now() - loadStart) / 1000;
    log(`load done after ${loadSeconds.toFixed(1)} s; draining`);

    await injector.stop();
    const stream = injector.streamFaultCounts();
    ledger.fault('stream_batch_duplicated', stream.duplicated);
    ledger.fault('stream_batch_retried', stream.retried);
    await stack.uploadsIdle();
    // Upload events that failed every attempt (DynamoDB was down through Lambda's retries) sit in
    // the transcoder's on-failure destination. Nothing consumes it automatically; an operator
    // redrives it, and so does the soak, then counts them.
    const redriven = stack.redriveUploadFailures();
    if (redriven > 0) {
      ledger.fault('upload_events_redriven_from_failure_destination', redriven);
      log(`redrove ${redriven} upload event(s) from the transcoder's failure destination`);
    }
    await stack.uploadsIdle();
    await streamQuiet(stack, 2000, 60_000, log);

    // Settle follow edges whose last request was never answered: repeat it until it is.
    const settler = new LoadClient(loadOptions);
    for (const pair of ledger.unsettledPairs) {
      const [follower = '', followee = ''] = pair.split('>');
      const follow = true;
      const response = await settler.callUntilAnswered(
        'follow',
        follower,
        'PUT',
        `/v1/users/${followee}/follow`,
        {},
        Date.now() + 30_000,
      );
      if (response?.status === 204 && follow) ledger.followeesOf(follower).add(followee);
    }

    // Last, every user unfollows one followee and deletes a tweet of theirs after reading their
    // timeline: gaps at the bottom of full timelines that no later tweet refills.
    await Promise.all(ledger.users.map((user) => settler.finalChurn(user)));
    await streamQuiet(stack, 2000, 60_000, log);

    // Media the run left alone must be final; the never-retried victim is the sweeper's job.
    const { dynamo, bucketName, tables, redis } = await import('../lambdas/platform/clients');
    const { s3 } = await import('../lambdas/platform/s3-client');
    const pendingMedia = () =>
      [...ledger.media.values()].filter((m) => m.fault !== 'killed_never_retried');
    await waitUntil(
      'media processing to finish',
      async () => {
        const statuses = await Promise.all(
          pendingMedia().map(async (m) => {
            const { findMedia } = await import('../lambdas/core/media/store');
            return (await findMedia({ dynamo, tables }, m.mediaId))?.status;
          }),
        );
        return statuses.every((s) => s === 'ready' || s === 'failed');
      },
      90_000,
      log,
    );
    const { sweepMedia } = await import('../lambdas/transcoder/sweeper');
    const { cacheOver } = await import('../lambdas/platform/cache');
    const { invalidateCachedTweet } = await import('../lambdas/core/tweets/store');
    const cache = cacheOver(redis);
    // The sweeper's threshold stands in for time: every run is over, so a claim 1 s old is dead.
    const swept = await sweepMedia(
      {
        dynamo,
        s3,
        bucket: bucketName(),
        tables,
        onMediaChanged: (tweetId) => invalidateCachedTweet(cache, tweetId),
      },
      { stuckAfterSeconds: 1 },
    );
    if (swept.timedOut > 0) ledger.fault('transcoder_run_swept', swept.timedOut);
    await streamQuiet(stack, 1000, 30_000, log);

    log(
      "verifying: every user's tweets, every acknowledged tweet by id, every home timeline, media",
    );
    const verifier = new Verifier(
      stack.apiUrl,
      stack.token,
      ledger,
      options.timelineDepth ?? LIMITS.timelineMaxEntries,
    );
    if (options.selfCheck === true) await breakOneTimeline(stack, ledger, log);
    const verification = await verifier.run();
    log(
      'verifying again after Redis is killed and restarted empty (timelines rebuild from DynamoDB)',
    );
    await stack.services.redis?.stop();
    await stack.services.redis?.start();
    const afterRedisLoss = await verifier.recheckHomeTimelines();

    for (const line of handlerLog.unhandled.slice(0, 5)) ledger.note(`handler error: ${line}`);
    if (fanoutDropped > 0) {
      ledger.note(`the stream pump dropped ${fanoutDropped} fanout record(s) after its retries`);
    }
    return summarize(ledger, verification, afterRedisLoss, {
      durationSeconds: Math.round(loadSeconds),
      clients: options.clients,
    });
  } finally {
    const faults = fanoutFaults();
    faults.duplicateNext = 0;
    await stack.stop();
    handlerLog.restore();
    log(`handler logs: ${options.handlerLogFile}`);
  }
}

/**
 * Diverts the handlers' JSON log lines (Powertools writes them to stdout, errors to stderr) to a
 * file, keeping the route handlers' unhandled errors for the report.
 */
function handlerLogCapture(file: string) {
  const unhandled: string[] = [];
  const sink = openSync(file, 'a');
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, index) => {
    const original = originals[index] as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level":')) return original(chunk, ...rest);
      writeSync(sink, text);
      if (text.includes('"message":"unhandled error"')) unhandled.push(text.trim().slice(0, 600));
      return true;
    };
  });
  return {
    unhandled,
    restore: () => {
      streams.forEach((stream, index) => {
        stream.write = originals[index] as typeof stream.write;
      });
      closeSync(sink);
    },
  };
}

/** The self-check's defect: one acknowledged tweet missing from one follower's home timeline. */
async function breakOneTimeline(stack: SoakStack, ledger: Ledger, log: (line: string) => void) {
  const { Redis } = await import('ioredis');
  const { timelineKeys, timelineMember } = await import('../lambdas/core/timelines/store-keys');
  const redis = new Redis(stack.services.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (const [follower, followees] of ledger.follows) {
      for (const tweet of ledger.tweets.values()) {
        if (tweet.outcome !== 'acked' || !followees.has(tweet.author)) continue;
        // Only a built timeline is trusted by readers; a missing one would simply be rebuilt.
        // The entry is in one of the timeline's chunks (lambdas/core/timelines/store.ts).
        const chunks = await redis.zrangebyscore(timelineKeys.homeTimeline(follower), '(0', '+inf');
        let removed = 0;
        for (const chunk of chunks) {
          const key = timelineKeys.timelineChunk(follower, chunk);
          removed += await redis.zrem(key, timelineMember(tweet.tweetId ?? ''));
        }
        if (removed === 1) {
          log(`self-check: removed ${tweet.tweetId} from ${follower}'s home timeline`);
          return;
        }
      }
    }
    log('self-check: found no built timeline entry to remove');
  } finally {
    redis.disconnect();
  }
}

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      clients: { type: 'string' },
      users: { type: 'string' },
      'dynamo-down-ms': { type: 'string' },
      'celebrity-threshold': { type: 'string' },
      'timeline-depth': { type: 'string' },
      json: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      'handler-log': { type: 'string' },
      'self-check': { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => process.stdout.write(`[soak] ${line}\n`);
  const options: SoakOptions = {
    durationSeconds: positiveInt(values.duration ?? process.env.SOAK_SECONDS, 60, '--duration'),
    clients: positiveInt(values.clients ?? process.env.SOAK_CLIENTS, 8, '--clients'),
    users: positiveInt(values.users ?? process.env.SOAK_USERS, 16, '--users'),
    dynamoDownMs: positiveInt(values['dynamo-down-ms'], 1500, '--dynamo-down-ms'),
    ...(values['celebrity-threshold'] !== undefined
      ? {
          celebrityThreshold: positiveInt(
            values['celebrity-threshold'],
            1,
            '--celebrity-threshold',
          ),
        }
      : {}),
    ...(values['timeline-depth'] !== undefined
      ? { timelineDepth: positiveInt(values['timeline-depth'], 1, '--timeline-depth') }
      : {}),
    keepData: values['keep-data'] === true,
    selfCheck: values['self-check'] === true,
    handlerLogFile:
      values['handler-log'] ?? join(tmpdir(), `chirp-soak-handlers-${process.pid}.log`),
    log,
  };
  delete process.env[ENV.redisUrl];
  const result = await runSoak(options);
  process.stdout.write(`\n${formatTable(result)}\n`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
  process.exit(result.passed ? 0 : 1);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `[soak] failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(2);
  });
}
