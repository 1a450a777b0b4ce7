/**
 * The soak run's own local stack: local/stack.ts's, started with the seams the soak needs to put
 * faults between the pieces (it sees every upload event before the transcoder does, and delivers
 * the tweets stream to the fanout through a wrapper that can replay batches,
 * soak/faults/fanout.ts), and its own DynamoDB Local and redis-server processes.
 *
 * It never shares a stack with anything else: taking DynamoDB down must not hurt other tests.
 * DynamoDB Local keeps its data on disk (a temp dbPath), so a restart keeps acknowledged writes,
 * as real DynamoDB would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type S3rver from '@20minutes/s3rver';
import { ENV } from '../app/model';
import { mintToken, type SigningKey } from '../local/jwt';
import type { Log } from '../local/log';
import type { UploadRouter } from '../local/s3-events';
import type { Services } from '../local/services';
import { startStack } from '../local/stack';
import { deliverWithFaults } from './faults/fanout';

export type { UploadRouter };

export interface SoakStack {
  readonly apiUrl: string;
  readonly cdnUrl: string;
  readonly services: Services;
  readonly signingKey: SigningKey;
  /** Replaceable at any time; the default delivers each event once. */
  uploadRouter: UploadRouter;
  readonly token: (userId: string) => string;
  /** Stream records the fanout has processed so far (for quiescence checks). */
  streamDelivered(): number;
  /** Resolves once no upload event is being processed. */
  uploadsIdle(): Promise<void>;
  /**
   * Upload events whose asynchronous invocation failed on every attempt: the transcoder's
   * on-failure destination (an SQS queue in AWS, which nothing consumes automatically).
   */
  readonly uploadFailureDestination: S3rver.EventRecord[];
  /** Delivers the failure destination's events again, as an operator's redrive would. */
  redriveUploadFailures(): number;
  stop(): Promise<void>;
}

export interface SoakStackOptions {
  readonly log: Log;
  /** Extra handler environment, e.g. FANOUT_MAX_FOLLOWERS. */
  readonly env?: Readonly<Record<string, string>>;
  /** Keep the data dir after stop (for post-mortems). @default false */
  readonly keepData?: boolean;
}

export async function startSoakStack(options: SoakStackOptions): Promise<SoakStack> {
  const { log } = options;
  // The soak kills and restarts its Redis, so it must never use an external one.
  delete process.env[ENV.redisUrl];
  const dataDir = mkdtempSync(join(tmpdir(), 'chirp-soak-'));
  const removeData = () => {
    if (options.keepData !== true) rmSync(dataDir, { recursive: true, force: true });
    else log(`soak data kept in ${dataDir}`);
  };
  const stack = await startStack({
    servicesDataDir: join(dataDir, 'services'),
    keyDir: join(dataDir, 'keys'),
    dynamoInMemory: false,
    apiPort: 0,
    cdnPort: 0,
    docsAndApp: false,
    fanoutDelivery: deliverWithFaults,
    ...(options.env !== undefined ? { env: options.env } : {}),
    log,
  }).catch((error: unknown) => {
    removeData();
    throw error;
  });
  const { uploads } = stack;
  return {
    apiUrl: stack.info.apiUrl!,
    cdnUrl: stack.info.cdnUrl!,
    services: stack.services,
    signingKey: stack.signingKey,
    get uploadRouter() {
      return uploads.router;
    },
    set uploadRouter(router: UploadRouter) {
      uploads.router = router;
    },
    token: (userId) => mintToken(stack.signingKey, userId),
    streamDelivered: () => stack.fanoutDelivered(),
    uploadsIdle: () => uploads.idle(),
    uploadFailureDestination: uploads.failureDestination,
    redriveUploadFailures: () => uploads.redriveFailures(),
    stop: async () => {
      await uploads.idle();
      await stack.stop();
      removeData();
    },
  };
}
