/**
 * Figures through the running local stack (API emulator with its JWT authorizer, the DynamoDB
 * stream pump feeding the fanout): the time until a follower sees a new tweet, and GET
 * /v1/tweets/{id} throughput under autocannon next to a bare Node HTTP server doing one Redis GET.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CacheGetReply, CacheGetRequest } from '../children/cache-get-worker';
import { mintToken } from '../../local/jwt';
import { Slots } from '../../local/slots';
import { startStack } from '../../local/stack';
import { TickBatch } from '../../local/tick-batch';
import { compared, notMeasured, progress, reportOnly, REPORT_ONLY, type Row } from '../lib/report';
import { lastJsonLine, mustRun } from '../lib/process';
import { median, summarize } from '../lib/stats';
import { addCpuUse, cpuBetween, NO_CPU_USE, sampleCpu, type CpuUse } from '../lib/thread-cpu';

export interface StackFigureOptions {
  readonly tweets: number;
  /** ms between tweets in the follower-visible run. */
  readonly tweetIntervalMs: number;
  /** ms between the follower's timeline polls. */
  readonly pollMs: number;
  readonly rpsSeconds: number;
  readonly connections: number;
}

interface Api {
  readonly url: string;
  readonly token: (user: string) => string;
}

async function call(
  api: Api,
  user: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${api.token(user)}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    // A request that hangs must fail the figure, not the whole run.
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function expectCall(
  api: Api,
  user: string,
  method: string,
  path: string,
  status: number,
  body?: unknown,
) {
  const out = await call(api, user, method, path, body);
  if (out.status !== status) {
    throw new Error(
      `${method} ${path}: expected ${status}, got ${out.status} ${JSON.stringify(out.json)}`,
    );
  }
  return out.json;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (at most 10 s) for a Redis client to be ready. */
async function waitReady(redis: {
  status: string;
  once(event: 'ready', listener: () => void): unknown;
}) {
  if (redis.status === 'ready') return;
  await Promise.race([
    new Promise<void>((r) => redis.once('ready', () => r())),
    sleep(10_000).then(() => {
      throw new Error(`Redis did not become ready (status ${redis.status})`);
    }),
  ]);
}

async function followerVisible(api: Api, options: StackFigureOptions): Promise<Row[]> {
  const author = 'bench-star';
  const follower = 'bench-fan';
  await expectCall(api, author, 'GET', '/v1/me', 200); // the author exists from a first call
  await expectCall(api, follower, 'PUT', `/v1/users/${author}/follow`, 204);
  // The follower's first read builds the timeline; from then on the fanout keeps it current.
  await expectCall(api, follower, 'GET', '/v1/timeline?limit=1', 200);

  const posted = new Map<string, number>();
  const seen = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const page = (await expectCall(api, follower, 'GET', '/v1/timeline?limit=50', 200)) as {
        tweets: { tweet_id: string }[];
      };
      const now = performance.now();
      for (const tweet of page.tweets) {
        if (posted.has(tweet.tweet_id) && !seen.has(tweet.tweet_id)) seen.set(tweet.tweet_id, now);
      }
      await sleep(options.pollMs);
    }
  })();

  const post = async (text: string) => {
    const tweet = (await expectCall(api, author, 'POST', '/v1/tweets', 201, { text })) as {
      tweet_id: string;
    };
    posted.set(tweet.tweet_id, performance.now());
    return tweet.tweet_id;
  };
  const allSeen = async (withinMs: number) => {
    const deadline = performance.now() + withinMs;
    while (seen.size < posted.size && performance.now() < deadline) await sleep(20);
  };

  // The first tweet starts the fanout's execution environment (locally a worker thread that loads
  // the TypeScript handler and makes its first connections: 1.5-2.5 s on this machine), and every
  // tweet posted meanwhile waits behind it: 6 % of the series, its whole p99. It is timed on its
  // own (follower_visible_first_ms; cold starts are the init figures' subject), and the series
  // measures the warm path, as a steady stream of tweets sees it.
  const first = await post('visible: first');
  await allSeen(30_000);
  const firstMs = (seen.get(first) ?? Number.POSITIVE_INFINITY) - (posted.get(first) ?? 0);
  posted.delete(first);
  seen.delete(first);

  progress(`follower-visible: ${options.tweets} tweets, one every ${options.tweetIntervalMs} ms`);
  for (let i = 0; i < options.tweets; i++) {
    await post(`visible ${i}`);
    if ((i + 1) % 50 === 0) progress(`  ${i + 1} tweets posted, ${seen.size} seen`);
    await sleep(options.tweetIntervalMs);
  }
  await allSeen(10_000);
  polling = false;
  // A poll that never returns must not hang the run (seen once under heavy load).
  let pollFailure: { error: unknown } | undefined;
  await Promise.race([poller.catch((error: unknown) => (pollFailure = { error })), sleep(5_000)]);
  if (pollFailure !== undefined) throw pollFailure.error;
  const delays = [...posted].map(([id, at]) => (seen.get(id) ?? Number.POSITIVE_INFINITY) - at);
  const missing = delays.filter((d) => !Number.isFinite(d)).length;
  const stats = summarize(delays);
  return [
    {
      ...compared({
        name: 'follower_visible_p99',
        value: stats.p99,
        unit: 'ms',
        baseline: 'none',
        baselineValue: Number.NaN,
        ratio: stats.p99,
        goal: '<= 500 ms',
        met: (p99) => p99 <= 500 && missing === 0,
        note: `p50 ${stats.p50.toFixed(0)} ms over ${delays.length} tweets via stream pump (after a first tweet that started the fanout); poll every ${options.pollMs} ms; ${missing} never seen`,
      }),
      baseline_value: null,
      ratio: null,
    },
    reportOnly('follower_visible_p50', stats.p50, 'ms'),
    reportOnly(
      'follower_visible_first_ms',
      firstMs,
      'ms',
      "the fanout's cold start: the first tweet after the stack started",
    ),
  ];
}

interface Cannon {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
}

async function autocannon(
  url: string,
  token: string,
  seconds: number,
  connections: number,
): Promise<Cannon> {
  const bin = resolve(__dirname, '../../node_modules/autocannon/autocannon.js');
  const args = ['-j', '-c', String(connections), '-d', String(seconds)];
  const out = lastJsonLine<{
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  }>(await mustRun(process.execPath, [bin, ...args, '-H', `authorization=Bearer ${token}`, url]));
  return {
    rps: out.requests.average,
    p50: out.latency.p50,
    p99: out.latency.p99,
    non2xx: out.non2xx,
    errors: out.errors,
    total: out.requests.total,
  };
}

/**
 * autocannon runs alternate between the API and the floor in short slices, so a burst of load
 * from elsewhere on the machine hits both sides alike.
 */
const SLICE_SECONDS = 2;

/** Sums slices: requests/s over the whole time, the median slice's latency percentiles. */
function combine(runs: readonly Cannon[]): Cannon {
  const total = runs.reduce((sum, run) => sum + run.total, 0);
  return {
    rps: total / (runs.length * SLICE_SECONDS),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    total,
  };
}

/** Answers as the API answers: with a Content-Length (without one the body would go chunked). */
function answer(response: ServerResponse, value: string | null, failed: boolean): void {
  if (failed) {
    response.writeHead(500);
    response.end();
    return;
  }
  const body = value ?? '';
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * The floor with the local runtime's one structural cost added: the GET runs on a worker thread
 * (cache-get-worker.ts), reached by one message per tick each way as the runtime batches them.
 * Report-only: it splits http_get_tweet_rps's gap into what running a function in an execution
 * environment of its own costs, and what the gateway and the handler do per request.
 */
async function workerHopServer(key: string): Promise<{ server: Server; worker: Worker }> {
  const worker = new Worker(resolve(__dirname, '../children/cache-get-worker.ts'), {
    workerData: { redisUrl: process.env.REDIS_URL ?? '' },
  });
  // Waiting responses kept and requests batched as the runtime keeps and sends its invocations.
  const waiting = new Slots<ServerResponse>();
  worker.on('message', (batch: readonly CacheGetReply[]) => {
    for (const { id, value, failed } of batch) {
      const response = waiting.take(id);
      if (response !== undefined) answer(response, value, failed);
    }
  });
  const requests = new TickBatch<CacheGetRequest>((batch) => worker.postMessage(batch));
  const server = createServer((_request, response) => {
    requests.push({ id: waiting.add(response), key });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, worker };
}

const urlOf = (server: Server, path: string) =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

/**
 * Report-only: the stack process's CPU per request through the API against the floor's, by
 * thread, and how idle the machine was meanwhile: where http_get_tweet_rps's gap goes, in every
 * run (bench/README.md). None without Linux's /proc.
 */
type Side = 'api' | 'bare' | 'hop';

function cpuPerRequest(cpu: Record<Side, CpuUse>, requests: Record<Side, number>) {
  const { api, bare, hop } = cpu;
  if (api.totalUs === 0 || bare.totalUs === 0) return [];
  const perRequest = (side: Side, us: number) => (us / requests[side]).toFixed(1);
  const idle = (use: CpuUse) => `${((100 * use.idleUs) / use.totalUs).toFixed(0)} %`;
  return [
    compared({
      name: 'http_get_tweet_cpu_per_request',
      value: api.processUs / requests.api,
      unit: 'us',
      baseline: 'the bare server, same slices: CPU of this process per request, us',
      baselineValue: bare.processUs / requests.bare,
      goal: REPORT_ONLY,
      met: () => true,
      note:
        `API: main thread ${perRequest('api', api.byGroup.main)}, function worker threads ` +
        `${perRequest('api', api.byGroup.workers)}, V8 platform (GC) ` +
        `${perRequest('api', api.byGroup.v8)}; bare: main thread ` +
        `${perRequest('bare', bare.byGroup.main)}, V8 platform ${perRequest('bare', bare.byGroup.v8)}; ` +
        `worker hop: main thread ${perRequest('hop', hop.byGroup.main)}, worker thread ` +
        `${perRequest('hop', hop.byGroup.workers)}; machine idle ${idle(api)} vs ${idle(bare)}`,
    }),
  ];
}

async function httpThroughput(api: Api, options: StackFigureOptions): Promise<Row[]> {
  // The floor's own connection, made by the client library the handlers use (so the ratio
  // measures the API's own work, not a difference between Redis clients).
  const { createCacheClient } = await import('../../lambdas/platform/clients');
  const redis = createCacheClient(process.env.REDIS_URL ?? '', { commandTimeoutMs: 1000 });
  await waitReady(redis);
  const user = 'bench-http';
  const tweet = (await expectCall(api, user, 'POST', '/v1/tweets', 201, { text: 'rps' })) as {
    tweet_id: string;
  };
  await expectCall(api, user, 'GET', `/v1/tweets/${tweet.tweet_id}`, 200);
  const key = `tweet:${tweet.tweet_id}`;
  if ((await redis.get(key)) === null) throw new Error('the tweet is not cached');

  // The floor: one Redis GET per request on the same client, answered as the API answers.
  const bare = createServer((_request, response) => {
    redis.get(key).then(
      (value) => answer(response, value, false),
      () => answer(response, null, true),
    );
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const hop = await workerHopServer(key);
  const path = `/v1/tweets/${tweet.tweet_id}`;
  const bareUrl = urlOf(bare, path);
  const hopUrl = urlOf(hop.server, path);
  const apiUrl = `${api.url}/v1/tweets/${tweet.tweet_id}`;
  const token = api.token(user);
  try {
    const slices = Math.max(1, Math.round(options.rpsSeconds / SLICE_SECONDS));
    progress(
      `http: warm-up 2 s each, then ${slices} rounds of ${SLICE_SECONDS} s slices ` +
        `(API, bare, worker hop: ${slices * SLICE_SECONDS} s each), ${options.connections} connections`,
    );
    const sides = { api: apiUrl, bare: bareUrl, hop: hopUrl };
    for (const url of Object.values(sides)) await autocannon(url, token, 2, options.connections);
    const slicesOf = { api: [] as Cannon[], bare: [] as Cannon[], hop: [] as Cannon[] };
    const cpuOf = { api: NO_CPU_USE, bare: NO_CPU_USE, hop: NO_CPU_USE };
    for (let i = 0; i < slices; i++) {
      for (const [side, url] of Object.entries(sides) as [Side, string][]) {
        const before = sampleCpu();
        slicesOf[side].push(await autocannon(url, token, SLICE_SECONDS, options.connections));
        const after = sampleCpu();
        if (before !== undefined && after !== undefined) {
          cpuOf[side] = addCpuUse(cpuOf[side], cpuBetween(before, after));
        }
      }
    }
    const api = combine(slicesOf.api);
    const bareTotal = combine(slicesOf.bare);
    const hopTotal = combine(slicesOf.hop);
    progress(
      `  API ${api.rps.toFixed(0)} req/s, bare ${bareTotal.rps.toFixed(0)} req/s, ` +
        `worker hop ${hopTotal.rps.toFixed(0)} req/s`,
    );
    for (const [side, run] of [
      ['API', api],
      ['bare', bareTotal],
      ['worker hop', hopTotal],
    ] as const) {
      if (run.non2xx + run.errors > 0) {
        throw new Error(`${side}: ${run.non2xx} non-2xx answers, ${run.errors} errors`);
      }
    }
    return [
      compared({
        name: 'http_worker_hop_rps',
        value: hopTotal.rps,
        unit: 'req/s',
        baseline: 'bare Node HTTP server, one Redis GET per request, req/s',
        baselineValue: bareTotal.rps,
        goal: REPORT_ONLY,
        met: () => true,
        note:
          "the floor's server with its GET on a worker thread, batched per tick as the local " +
          'runtime does: what running a function in an environment of its own costs, without a ' +
          "handler; http_get_tweet_cpu_per_request shows where the rest of http_get_tweet_rps's " +
          'gap goes',
      }),
      ...cpuPerRequest(cpuOf, { api: api.total, bare: bareTotal.total, hop: hopTotal.total }),
      compared({
        name: 'http_get_tweet_rps',
        value: api.rps,
        unit: 'req/s',
        baseline: 'bare Node HTTP server, one Redis GET per request, req/s',
        baselineValue: bareTotal.rps,
        goal: 'ratio >= 0.8',
        met: (r) => r >= 0.8,
        note:
          `${options.connections} connections, ${slices * SLICE_SECONDS} s per side in alternating ` +
          `${SLICE_SECONDS} s slices; median slice latency p50/p99 ${api.p50}/${api.p99} ms vs ` +
          `${bareTotal.p50}/${bareTotal.p99} ms`,
      }),
    ];
  } finally {
    redis.disconnect();
    await hop.worker.terminate();
    for (const server of [bare, hop.server]) {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
}

export async function stackFigures(options: StackFigureOptions): Promise<Row[]> {
  const keyDir = mkdtempSync(join(tmpdir(), 'chirp-bench-stack-'));
  progress(
    'starting the local stack (in-memory DynamoDB Local, S3 emulator, Redis, API, stream pump)',
  );
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const stack = await startStack({
    servicesDataDir: undefined,
    keyDir,
    dynamoInMemory: true,
    apiPort: 0,
    cdnPort: 0,
    docsPort: 0,
    appPort: 0,
  });
  const rows: Row[] = [];
  try {
    const apiUrl = stack.info.apiUrl;
    if (apiUrl === null) throw new Error('the local stack has no API');
    const tokens = new Map<string, string>();
    const api: Api = {
      url: apiUrl,
      token: (user) => {
        let token = tokens.get(user);
        if (token === undefined) {
          token = mintToken(stack.signingKey, user);
          tokens.set(user, token);
        }
        return token;
      },
    };
    for (const [name, goal, run] of [
      ['follower_visible_p99', '<= 500 ms', () => followerVisible(api, options)],
      ['http_get_tweet_rps', 'ratio >= 0.8', () => httpThroughput(api, options)],
    ] as const) {
      try {
        rows.push(...(await run()));
      } catch (error) {
        progress(`${name} failed: ${error instanceof Error ? error.stack : String(error)}`);
        rows.push(
          notMeasured(name, '', goal, error instanceof Error ? error.message : String(error)),
        );
      }
    }
  } finally {
    const { redis } = await import('../../lambdas/platform/clients');
    redis.disconnect();
    await stack.stop();
    rmSync(keyDir, { recursive: true, force: true });
  }
  return rows;
}
