/**
 * The soak run's own local stack, composed in this process from local/'s public pieces (services,
 * API emulator with the JWT authorizer, S3 event delivery, stream pump, CDN), so the soak can put
 * faults between them: it owns the DynamoDB Local and redis-server processes, sees every upload
 * event before the transcoder does, and delivers the tweets stream to the fanout through a wrapper
 * that can replay batches (soak/faults/fanout.ts).
 *
 * It never shares a stack with anything else: taking DynamoDB down must not hurt other tests.
 * DynamoDB Local keeps its data on disk (a temp dbPath), so a restart keeps acknowledged writes,
 * as real DynamoDB would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type S3rver from '@20minutes/s3rver';
import type { S3Event } from 'aws-lambda';
import {
  ENV,
  FANOUT_FUNCTION,
  MEDIA_PREFIXES,
  MEDIA_PUBLISHER_FUNCTION,
  ROUTES,
  TRANSCODER_FUNCTION,
} from '../app/model';
import { startApiGateway } from '../local/api-gateway';
import { startCdn } from '../local/cdn';
import { createJwtAuthorizer } from '../local/jwt-authorizer';
import { generateSigningKey, mintToken, type SigningKey } from '../local/jwt';
import type { Log } from '../local/log';
import { invokeAsync } from '../local/async-invoke';
import { LocalFunction } from '../local/lambda-runtime';
import { toAwsRecord, wantedByTranscoder } from '../local/s3-events';
import { startServices, type Services } from '../local/services';
import { startStreamPump } from '../local/stream-pump';
import { deliverWithFaults } from './faults/fanout';

/**
 * Decides how one upload event reaches the transcoder. `deliver` hands it to the stack's normal
 * asynchronous delivery (with Lambda's retries); a router may call it twice, late, or never.
 */
export type UploadRouter = (raw: S3rver.EventRecord, deliver: () => void) => void;

export interface SoakStack {
  readonly apiUrl: string;
  readonly cdnUrl: string;
  readonly services: Services;
  readonly signingKey: SigningKey;
  /** Replaceable at any time; the default delivers each event once. */
  uploadRouter: UploadRouter;
  token(userId: string): string;
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
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) {
      await stopper().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
    if (options.keepData !== true) rmSync(dataDir, { recursive: true, force: true });
    else log(`soak data kept in ${dataDir}`);
  };

  let onUpload: (raw: S3rver.EventRecord) => void = () => undefined;
  try {
    const services = await startServices({
      dataDir: join(dataDir, 'services'),
      dynamoInMemory: false,
      redisUrl: undefined,
      onS3Event: (raw) => onUpload(raw),
      log,
    });
    stoppers.push(() => services.stop());

    const cdn = await startCdn({
      port: 0,
      bucket: services.bucket,
      s3Endpoint: services.s3Endpoint,
      region: services.region,
      credentials: services.credentials,
      log,
    });
    stoppers.push(() => cdn.close());

    // Handlers run in this process and read their configuration from process.env, as on Lambda.
    Object.assign(process.env, services.env, { [ENV.cdnBaseUrl]: cdn.url }, options.env ?? {});

    const signingKey = generateSigningKey();
    const api = await startApiGateway({
      port: 0,
      routes: ROUTES,
      authorizer: await createJwtAuthorizer(signingKey),
      region: services.region,
      log,
    });
    stoppers.push(() => api.close());

    // S3 -> transcoder as local/s3-events.ts delivers it (AWS record shape, Lambda's async retries),
    // but keeping what ends in the failure destination, so the soak can see and redrive it.
    const transcoder = new LocalFunction<S3Event, unknown>(TRANSCODER_FUNCTION, services.region);
    const inFlight = new Set<Promise<unknown>>();
    const failureDestination: S3rver.EventRecord[] = [];
    const deliverUpload = (raw: S3rver.EventRecord) => {
      if (!wantedByTranscoder(raw)) return;
      const record = toAwsRecord(raw, services.region);
      const delivery = invokeAsync((id) => transcoder.invoke({ Records: [record] }, id), {
        describe: `transcoder for ${raw.s3.object.key}`,
        log,
      }).then((ok) => {
        if (!ok) failureDestination.push(raw);
      });
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
    };
    const uploadsIdle = async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    };
    stoppers.push(uploadsIdle);
    const pump = await startStreamPump({
      tableName: services.tableNames.tweets,
      fn: FANOUT_FUNCTION,
      deliverBatch: deliverWithFaults,
      endpoint: services.dynamoEndpoint,
      region: services.region,
      credentials: services.credentials,
      log,
    });
    stoppers.push(() => pump.stop());
    // Attached media is shown ready once the publisher has put its variants on the CDN.
    const publisher = await startStreamPump({
      tableName: services.tableNames.metadata,
      fn: MEDIA_PUBLISHER_FUNCTION,
      endpoint: services.dynamoEndpoint,
      region: services.region,
      credentials: services.credentials,
      log,
    });
    stoppers.push(() => publisher.stop());

    const stack: SoakStack = {
      apiUrl: api.url,
      cdnUrl: cdn.url,
      services,
      signingKey,
      uploadRouter: (_raw, deliver) => deliver(),
      token: (userId) => mintToken(signingKey, userId),
      streamDelivered: () => pump.delivered,
      uploadsIdle,
      uploadFailureDestination: failureDestination,
      redriveUploadFailures: () => {
        const events = failureDestination.splice(0);
        for (const raw of events) deliverUpload(raw);
        return events.length;
      },
      stop,
    };
    onUpload = (raw) => {
      if (raw.s3.object.key.startsWith(MEDIA_PREFIXES.uploads)) {
        stack.uploadRouter(raw, () => deliverUpload(raw));
      }
    };
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}
