/**
 * `npm start`: the whole system on one machine.
 *
 *   npm start                      data persists in .local-data/
 *   npm start -- --fresh           wipe .local-data/ first
 *   npm start -- --in-memory       keep no service data (the token key still lives in .local-data/)
 *   npm start -- --data-dir DIR    another data folder (or CHIRP_DATA_DIR)
 *   API_PORT=3001 npm start        another API port (CDN_PORT, DOCS_PORT, APP_PORT likewise)
 *   CORS_ORIGINS=http://localhost:5173 npm start
 *                                  browser origins allowed (default: any http://localhost:* and
 *                                  http://127.0.0.1:*; "" allows none, as on AWS by default)
 *
 * For tests: --control (fault-injection endpoint), --ready-file FILE (stack info as JSON once
 * ready), --exit-with-parent (stop when the process that started us goes away).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localCorsOrigins } from './cors';
import { startStack, type LocalStack } from './stack';

import {
  DEFAULT_API_PORT,
  DEFAULT_APP_PORT,
  DEFAULT_CDN_PORT,
  DEFAULT_DATA_DIR,
  DEFAULT_DOCS_PORT,
} from './defaults';

const { values: flags } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'in-memory': { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    control: { type: 'boolean', default: false },
    'ready-file': { type: 'string' },
    'exit-with-parent': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const log = (message: string) => {
  if (!flags.quiet) process.stdout.write(`[chirp] ${message}\n`);
};

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${name} must be a port number`);
  return port;
}

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = resolve(flags['data-dir'] ?? process.env.CHIRP_DATA_DIR ?? DEFAULT_DATA_DIR);
  if (flags.fresh) {
    log(`--fresh: removing ${dataDir}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const inMemory = flags['in-memory'];

  // Set once started; a signal during startup finds it empty (children are reaped on exit).
  const running: { stack?: LocalStack } = {};
  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: stopping`);
    await running.stack?.stop();
    log('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void shutdown(signal));
  }
  if (flags['exit-with-parent']) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown('parent exited');
    }, 500).unref();
  }

  const stack = await startStack({
    servicesDataDir: inMemory ? undefined : dataDir,
    keyDir: dataDir,
    dynamoInMemory: inMemory,
    apiPort: portFromEnv('API_PORT', DEFAULT_API_PORT),
    cdnPort: portFromEnv('CDN_PORT', DEFAULT_CDN_PORT),
    docsPort: portFromEnv('DOCS_PORT', DEFAULT_DOCS_PORT),
    appPort: portFromEnv('APP_PORT', DEFAULT_APP_PORT),
    control: flags.control,
    corsOrigins: localCorsOrigins(),
    log,
  });
  running.stack = stack;
  if (stopping) return;
  const { info } = stack;
  if (flags['ready-file'] !== undefined) {
    // Written aside and renamed: a watcher polling for the file never reads it half written.
    const partial = `${flags['ready-file']}.partial`;
    writeFileSync(partial, JSON.stringify(info, null, 2));
    renameSync(partial, flags['ready-file']);
  }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // The functions' application metrics, one line every 30 s when they changed.
  let printed = 0;
  setInterval(() => {
    if (stack.metrics.version === printed) return;
    printed = stack.metrics.version;
    log(`metrics: ${stack.metrics.line()}`);
  }, 30_000).unref();
  const tokenCommand =
    info.keyDir === resolve(DEFAULT_DATA_DIR)
      ? 'npm run --silent token -- <user_id>'
      : `CHIRP_DATA_DIR=${info.keyDir} npm run --silent token -- <user_id>`;
  process.stdout.write(
    [
      '',
      `  App   ${info.appUrl}`,
      `  API   ${info.apiUrl}`,
      `  CDN   ${info.cdnUrl}`,
      `  Docs  ${info.docsUrl} (API reference from openapi.yaml)`,
      `  DynamoDB  ${info.env.AWS_ENDPOINT_URL_DYNAMODB}   S3  ${info.env.AWS_ENDPOINT_URL_S3}   (operator key S3RVER / S3RVER, docs/local.md)`,
      `  Data  ${inMemory ? 'in memory (nothing persists)' : info.dataDir}`,
      `  Metrics ${info.apiUrl}/_local/metrics`,
      ...(info.controlUrl !== null ? [`  Fault injection  ${info.controlUrl}`] : []),
      '',
      `  Token:  ${tokenCommand}`,
      `  Try:    curl -H "Authorization: Bearer $(${tokenCommand.replace('<user_id>', 'alice')})" ${info.apiUrl}/v1/timeline`,
      `  Demo:   npm run demo`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    // The message says what to do; the stack trace only helps when debugging the stack itself.
    `[chirp] failed to start: ${
      error instanceof Error
        ? process.env.CHIRP_DEBUG !== undefined
          ? error.stack
          : error.message
        : String(error)
    }\n`,
  );
  process.exit(1);
});
