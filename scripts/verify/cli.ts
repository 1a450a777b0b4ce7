/**
 * `npm run verify`: the post-deploy check (docs/operations.md, "Verifying a deployment").
 *
 *   npm run verify -- --outputs cdk-outputs.json [--stack Chirp]
 *       a deployment, from `cdk deploy --outputs-file cdk-outputs.json`; creates and deletes two
 *       Cognito users with the caller's AWS credentials (AWS_PROFILE etc.)
 *   npm run verify -- --local [--app-url http://127.0.0.1:3003] [--api-url URL] [--cdn-url URL]
 *       the running local stack (`npm start`); tokens from its issuer
 *
 * Exit code: 0 when every check held, 1 when one failed, 2 for a usage or setup error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  deployedTarget,
  localTarget,
  newRunId,
  readStackOutputs,
  type VerifyTarget,
} from './targets';
import { verifyDeployment } from './verifier';

const USAGE =
  'usage: npm run verify -- --outputs cdk-outputs.json [--stack NAME]\n' +
  '       npm run verify -- --local [--app-url URL] [--api-url URL] [--cdn-url URL]\n' +
  'options: --processing-timeout SECONDS (default 180), --fanout-timeout SECONDS (default 60)';

function usageError(text: string): never {
  process.stderr.write(`${text}\n${USAGE}\n`);
  process.exit(2);
}

function secondsOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) usageError(`--${name} must be a positive number`);
  return parsed * 1000;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        outputs: { type: 'string' },
        stack: { type: 'string' },
        local: { type: 'boolean', default: false },
        'app-url': { type: 'string' },
        'api-url': { type: 'string' },
        'cdn-url': { type: 'string' },
        'processing-timeout': { type: 'string' },
        'fanout-timeout': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (flags.local === (flags.outputs !== undefined))
    usageError('give either --outputs FILE or --local');

  const runId = newRunId();
  let target: VerifyTarget;
  try {
    if (flags.local) {
      target = await localTarget(
        {
          appUrl: flags['app-url'] ?? `http://127.0.0.1:${process.env.APP_PORT ?? 3003}`,
          ...(flags['api-url'] !== undefined ? { apiUrl: flags['api-url'] } : {}),
          ...(flags['cdn-url'] !== undefined ? { cdnUrl: flags['cdn-url'] } : {}),
        },
        runId,
      );
    } else {
      const file = flags.outputs as string;
      const outputs = readStackOutputs(
        JSON.parse(readFileSync(file, 'utf8')) as unknown,
        flags.stack,
      );
      const stackTarget = deployedTarget(outputs, runId);
      target = {
        ...stackTarget,
        ...(flags['api-url'] !== undefined ? { apiUrl: flags['api-url'] } : {}),
        ...(flags['cdn-url'] !== undefined ? { cdnUrl: flags['cdn-url'] } : {}),
      };
    }
  } catch (error) {
    process.stderr.write(`verify: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }

  const processingTimeoutMs = secondsOption(flags['processing-timeout'], 'processing-timeout');
  const fanoutTimeoutMs = secondsOption(flags['fanout-timeout'], 'fanout-timeout');
  // Ctrl-C stops the checks and cleans up; a second one leaves at once (and leaves the users).
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(
      '\ninterrupted: cleaning up (Ctrl-C again to leave without cleaning up)\n',
    );
    interrupt.abort();
  });
  const report = await verifyDeployment(target, runId, {
    print: (line) => process.stdout.write(`${line}\n`),
    signal: interrupt.signal,
    ...(processingTimeoutMs !== undefined ? { processingTimeoutMs } : {}),
    ...(fanoutTimeoutMs !== undefined ? { fanoutTimeoutMs } : {}),
  });
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `verify: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
