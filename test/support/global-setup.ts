/**
 * Starts the local stack (DynamoDB Local, S3 emulator, redis-server, API emulator, event pumps,
 * CDN) once per Jest run, in a child process exactly as `npm start` runs it, on free ports and in a
 * temp data dir. Its handler environment and URLs reach the test workers through process.env.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StackInfo } from '../../local/stack';
import { STACK_ENV } from './stack-info';
import { LOAD_DRIVER_ENV } from '../../local/defaults';

const ROOT = resolve(__dirname, '..', '..');
// The first start after a change to lib/, app/ or cdk.json synthesizes the CDK app for the IAM
// policies (local/iam/policies.ts): ~5 s alone, over a minute on a loaded machine.
const STARTUP_TIMEOUT_MS = 180_000;

export interface StackHandle {
  readonly pid: number;
  readonly dataDir: string;
  readonly logFile: string;
}

declare global {
  var __chirpStack: StackHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chirp-test-'));
  const readyFile = join(dataDir, 'ready.json');
  const logFile = join(dataDir, 'stack.log');
  const output = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'local', 'start.ts'),
      '--data-dir',
      join(dataDir, 'data'),
      '--control',
      '--exit-with-parent',
      '--ready-file',
      readyFile,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', output, output],
      env: {
        ...process.env,
        // The suites drive hundreds of requests per user (property-based hostile input): their
        // subject is the input, not the per-user limits, which test/domain/limits.test.ts tests
        // against the same handlers with budgets of its own.
        ...LOAD_DRIVER_ENV,
        API_PORT: '0',
        CDN_PORT: '0',
        DOCS_PORT: '0',
        APP_PORT: '0',
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not start the local stack');
  globalThis.__chirpStack = { pid, dataDir, logFile };

  const info = await new Promise<StackInfo>((resolvePromise, reject) => {
    const started = Date.now();
    const onExit = (code: number | null) =>
      reject(new Error(`The local stack exited (${code}) while starting:\n${tail(logFile)}`));
    child.once('exit', onExit);
    const poll = setInterval(() => {
      if (existsSync(readyFile)) {
        clearInterval(poll);
        child.off('exit', onExit);
        resolvePromise(JSON.parse(readFileSync(readyFile, 'utf8')) as StackInfo);
      } else if (Date.now() - started > STARTUP_TIMEOUT_MS) {
        clearInterval(poll);
        child.off('exit', onExit);
        child.kill('SIGTERM');
        reject(
          new Error(
            `The local stack did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${tail(logFile)}`,
          ),
        );
      }
    }, 50);
  });
  child.unref();

  Object.assign(process.env, info.env);
  process.env[STACK_ENV.serviceEnv] = JSON.stringify(info.env);
  process.env[STACK_ENV.keyDir] = info.keyDir;
  process.env[STACK_ENV.stackPid] = String(info.pid);
  process.env[STACK_ENV.logFile] = logFile;
  if (info.controlUrl !== null) process.env[STACK_ENV.controlUrl] = info.controlUrl;
  if (info.apiUrl !== null) process.env[STACK_ENV.apiUrl] = info.apiUrl;
  if (info.cdnUrl !== null) process.env[STACK_ENV.cdnUrl] = info.cdnUrl;
  if (info.appUrl !== null) process.env[STACK_ENV.appUrl] = info.appUrl;
  if (info.redis !== null) {
    process.env[STACK_ENV.redisPid] = String(info.redis.pid);
    process.env[STACK_ENV.redisPort] = String(info.redis.port);
  }
}

function tail(file: string, lines = 60): string {
  if (!existsSync(file)) return '(no output)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}
