/**
 * `npm run bench`: measures Chirp's hot paths as ratios to their physical floor and to peers,
 * against local services it starts itself (issue #5). Prints progress on stderr, the table on
 * stdout, and writes JSON to BENCH_OUT (default bench/results/latest.json).
 *
 *   BENCH_ONLY=api,media   run only some groups (api, stack, media, init)
 *   BENCH_QUICK=1          fewer samples (a smoke run; not valid for the goals)
 */
import { resolve } from 'node:path';
import { startServices, type Services } from '../local/services';
import { apiFigures } from './figures/api';
import { initFigures } from './figures/init';
import { mediaFigures } from './figures/media';
import { formatTable, guarded, progress, writeReport, type Row } from './lib/report';
import { lastJsonLine, mustRun } from './lib/process';
import { LOAD_DRIVER_ENV } from '../local/defaults';
import { ENV } from '../app/model';
import { costModel, formatCost, mixCalls, recordedCosts } from './lib/cost';

const quick = process.env.BENCH_QUICK === '1';
const only = new Set(
  (process.env.BENCH_ONLY ?? 'api,rebuild,fanout,stack,media,init').split(',').map((s) => s.trim()),
);
const out = resolve(process.env.BENCH_OUT ?? 'bench/results/latest.json');
/** The environment before the in-process services were put in it (children start their own). */
const launchEnv = { ...process.env };

/**
 * LOAD_DRIVER_ENV's limits (1,000,000 per second per caller): the limiter counts in µs, so they
 * hold as configured and no run reaches them; its script still runs on every request, as deployed.
 */
const BENCH_ENV: Readonly<Record<string, string>> = LOAD_DRIVER_ENV;

async function withServices<T>(run: (services: Services) => Promise<T>): Promise<T> {
  progress('starting DynamoDB Local (in memory), the S3 emulator and redis-server on free ports');
  const services = await startServices({ dynamoInMemory: true });
  // Handlers build their clients at module scope from process.env, as on Lambda.
  Object.assign(process.env, services.env, BENCH_ENV, {
    // fanout_scale_100k_vs_1k fans out to 100,000 followers: above the default threshold
    // (LIMITS.fanoutMaxFollowersDefault) that author's tweets would be merged at read instead.
    [ENV.fanoutMaxFollowers]: String(Number(process.env.BENCH_SCALE_FOLLOWERS ?? 100_000)),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    CDN_BASE_URL: process.env.CDN_BASE_URL ?? 'http://127.0.0.1:1/cdn',
  });
  try {
    return await run(services);
  } finally {
    // The handlers' module-scope Redis client would otherwise reconnect forever.
    const { redis } = await import('../lambdas/platform/clients');
    redis.disconnect();
    await services.stop();
  }
}

/** The local-stack figures run in a child process (see bench/children/stack.ts). */
async function stackChild(): Promise<Row[]> {
  const out = await mustRun(
    process.execPath,
    ['--import', 'tsx', resolve(__dirname, 'children/stack.ts')],
    // Without the in-process figures' REDIS_URL (a stopped redis-server by then): the stack would
    // take it as an external Redis and start none of its own.
    { cwd: resolve(__dirname, '..'), inheritStderr: true, env: { ...launchEnv, ...BENCH_ENV } },
  );
  return lastJsonLine<Row[]>(out);
}

async function main(): Promise<void> {
  const started = Date.now();
  const rows: Row[] = [];
  const guard = async (group: string, names: string[], run: () => Promise<Row[]>) => {
    if (only.has(group)) rows.push(...(await guarded(group, names, run)));
  };

  // The transcoder figures first: they are CPU- and page-fault-bound, and right after the
  // services' figures (DynamoDB Local's JVM has just given back ~0.5 GB) the same runs measured
  // 20-30 % slower on this VM with nothing else running. First, they see the clean machine a
  // Lambda gives them.
  if (only.has('media')) {
    rows.push(
      ...(await mediaFigures({
        fixtureDir: resolve('bench/results/fixtures'),
        buildDir: resolve('bench/results/build'),
        imageRuns: quick ? 1 : 3,
        videoRuns: quick ? 1 : 3,
      })),
    );
  }

  const inProcess = ['api', 'rebuild', 'fanout'];
  if (inProcess.some((group) => only.has(group))) {
    rows.push(
      ...(await withServices((services) =>
        apiFigures({
          only,
          region: services.region,
          samples: quick ? 200 : 1500,
          warmup: quick ? 50 : 300,
          fanoutFollowers: Number(process.env.BENCH_FANOUT_FOLLOWERS ?? 10_000),
          fanoutRounds: quick ? 2 : 9,
          rebuildFollowees: 200,
          rebuildRounds: quick ? 5 : 20,
          scaleFollowers: Number(process.env.BENCH_SCALE_FOLLOWERS ?? 100_000),
          scaleRounds: quick ? 1 : 3,
          costCalls: quick ? 20 : 100,
        }),
      )),
    );
  }

  await guard('stack', ['follower_visible_p99', 'http_get_tweet_rps'], stackChild);

  await guard('init', ['handler_init_vs_bare'], () =>
    initFigures({ buildDir: resolve('bench/results/build'), runs: 20 }),
  );

  const measured = recordedCosts();
  const cost =
    measured.routes.length > 0
      ? costModel(measured.routes, measured.timelineBytes ?? Number.NaN, mixCalls())
      : undefined;
  writeReport(out, rows, cost === undefined ? {} : { cost_model: cost });
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  if (cost !== undefined) process.stdout.write(`${formatCost(cost)}\n\n`);
  progress(`wrote ${out} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  progress(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
