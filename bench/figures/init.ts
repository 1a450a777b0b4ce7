/**
 * Handler bundles and cold starts: every function bundled the way the CDK bundles it, its size,
 * and the cold start of the bundled get-tweet handler in fresh Node processes next to a bundled
 * handler that returns a constant.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV, EVENT_FUNCTIONS, ROUTES, TRANSCODER_FUNCTION } from '../../app/model';
import { bundleLikeCdk, type Bundle } from '../lib/bundle';
import { compared, progress, REPORT_ONLY, reportOnly, type Row } from '../lib/report';
import { lastJsonLine, mustRun } from '../lib/process';
import { median } from '../lib/stats';

export interface InitOptions {
  readonly buildDir: string;
  readonly runs: number;
}

/** The transcoder's externals come from its Lambda layer (lib/constructs/transcoder.ts). */
const TRANSCODER_EXTERNALS = ['sharp'];

interface ColdStart {
  /** ms from process start until Node could start loading the handler. */
  readonly boot: number;
  /** ms spent loading (requiring) the handler module. */
  readonly import: number;
  /** ms from process start until the handler was loaded. */
  readonly total: number;
  /** ms to load the SDK file and build the DynamoDB client (the first miss pays it), or null. */
  readonly sdk: number | null;
}

/** The environment a deployed function sees (values do not matter: nothing is called). */
const FUNCTION_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  [ENV.tweetsTable]: 'Tweets',
  [ENV.metadataTable]: 'Metadata',
  [ENV.mediaBucket]: 'media',
  [ENV.cdnBaseUrl]: 'https://cdn.example.com',
  // As lib/constructs/cache.ts sets them: TLS and an IAM token, so both are part of the cold
  // start. Nothing listens there; the client connects in the background and the process exits
  // first.
  [ENV.redisUrl]: 'rediss://127.0.0.1:9',
  [ENV.redisIamUser]: 'chirp-functions',
  [ENV.redisCacheName]: 'chirp-cache',
  [ENV.serviceName]: 'GetTweet',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // As ChirpFunction sets it.
  NODE_OPTIONS: '--enable-source-maps',
};

/** The floor's entry: the same libraries and clients as a cached route, nothing of Chirp's. */
const DEPS_FLOOR_SOURCE = `import { Logger } from '@aws-lambda-powertools/logger';
import { Cluster } from 'ioredis';

const logger = new Logger();
const url = new URL(process.env.${ENV.redisUrl} ?? '');
const redis = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
  lazyConnect: process.env.${ENV.redisIamUser} !== undefined,
  enableOfflineQueue: false,
  scaleReads: 'master',
  slotsRefreshTimeout: 1000,
  dnsLookup: (address: string, callback: (error: null, address: string) => void) =>
    callback(null, address),
  redisOptions: {
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    username: process.env.${ENV.redisIamUser},
  },
});
redis.on('error', (error: Error) => logger.warn('redis', { error: error.message }));

export const handler = async () => ({ statusCode: 200, body: redis.status });
`;

async function coldStart(file: string): Promise<ColdStart> {
  const script = resolve(__dirname, '../children/cold-start.cjs');
  return lastJsonLine<ColdStart>(
    await mustRun(process.execPath, [script, file], { env: FUNCTION_ENV }),
  );
}

export async function initFigures(options: InitOptions): Promise<Row[]> {
  const root = resolve(__dirname, '../..');
  const dir = join(options.buildDir, 'bundles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rows: Row[] = [];

  progress('bundling every function the way the CDK does (esbuild, cjs, node24, minified)');
  const bundles = new Map<string, Bundle>();
  for (const spec of [...ROUTES, ...EVENT_FUNCTIONS]) {
    const entry = join(root, spec.entry);
    if (!existsSync(entry)) {
      progress(`  ${spec.id}: ${spec.entry} does not exist yet; skipped`);
      continue;
    }
    const external = spec.id === TRANSCODER_FUNCTION.id ? TRANSCODER_EXTERNALS : [];
    const bundle = await bundleLikeCdk(entry, join(dir, spec.id), external);
    bundles.set(spec.id, bundle);
    rows.push(
      reportOnly(
        `bundle_size_${spec.id}`,
        bundle.bytes / 1024,
        'KiB',
        external.length > 0 ? `externals: ${external.join(', ')}` : undefined,
      ),
    );
  }

  const getTweet = bundles.get('GetTweet');
  if (getTweet === undefined) throw new Error('the get-tweet handler could not be bundled');
  const bareEntry = join(dir, 'bare.ts');
  writeFileSync(
    bareEntry,
    "export const handler = async () => ({ statusCode: 200, body: '{}' });\n",
  );
  const bare = await bundleLikeCdk(bareEntry, join(dir, 'Bare'));

  // The dependencies' floor: a bundle that imports only the libraries get-tweet starts with
  // (ioredis, the Powertools logger) and builds the same clients from the same environment: a
  // Logger, and an ioredis Cluster over TLS with IAM's lazy connection, as createCacheClient does.
  const depsEntry = join(dir, 'deps-floor.ts');
  writeFileSync(depsEntry, DEPS_FLOOR_SOURCE);
  const depsFloor = await bundleLikeCdk(depsEntry, join(dir, 'DepsFloor'));

  progress(`cold starts: ${options.runs} fresh Node processes per bundle, interleaved`);
  const handlerRuns: ColdStart[] = [];
  const bareRuns: ColdStart[] = [];
  const depsRuns: ColdStart[] = [];
  await coldStart(bare.file); // warms the OS file cache for node itself
  for (let i = 0; i < options.runs; i++) {
    handlerRuns.push(await coldStart(getTweet.file));
    bareRuns.push(await coldStart(bare.file));
    depsRuns.push(await coldStart(depsFloor.file));
  }
  const pick = (runs: ColdStart[], field: 'boot' | 'import' | 'total') =>
    median(runs.map((r) => r[field]));
  rows.push(
    compared({
      name: 'handler_init_vs_bare',
      value: pick(handlerRuns, 'total'),
      unit: 'ms (median)',
      baseline: 'bundled constant handler, process start to handler loaded, ms',
      baselineValue: pick(bareRuns, 'total'),
      // Reported without a goal since issue #15 (the goal is handler_init_vs_deps_floor's).
      goal: REPORT_ONLY,
      met: () => true,
      note:
        `process start to handler loaded, median of ${options.runs}; ` +
        `module load alone ${pick(handlerRuns, 'import').toFixed(1)} ms vs ` +
        `${pick(bareRuns, 'import').toFixed(2)} ms`,
    }),
    compared({
      name: 'handler_init_vs_deps_floor',
      value: pick(handlerRuns, 'total'),
      unit: 'ms (median)',
      baseline:
        'bundle importing only ioredis and the Powertools logger and building the same clients, ms',
      baselineValue: pick(depsRuns, 'total'),
      goal: 'ratio <= 1.3',
      met: (r) => r <= 1.3,
      note:
        `process start to handler loaded, median of ${options.runs}; module load alone ` +
        `${pick(handlerRuns, 'import').toFixed(1)} ms vs ${pick(depsRuns, 'import').toFixed(1)} ms; ` +
        `bundles ${(getTweet.bytes / 1024).toFixed(0)} KiB vs ${(depsFloor.bytes / 1024).toFixed(0)} KiB`,
    }),
    reportOnly(
      'handler_init_get_tweet_absolute',
      pick(handlerRuns, 'total'),
      'ms',
      'cold start on this machine: process start to handler loaded (median)',
    ),
    reportOnly(
      'handler_init_get_tweet_import_only',
      pick(handlerRuns, 'import'),
      'ms',
      'require() of the bundle alone (median)',
    ),
    reportOnly(
      'handler_init_get_tweet_first_dynamodb_load',
      median(handlerRuns.map((run) => run.sdk ?? Number.NaN)),
      'ms',
      `aws-sdk.js (${(getTweet.sdkBytes / 1024).toFixed(0)} KiB) loaded and the DynamoDB client built, in the same fresh process after the handler: what the first cache miss of a cold start adds`,
    ),
  );
  return rows;
}
