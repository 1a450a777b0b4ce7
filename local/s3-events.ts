// Own code: reshapes s3rver's events into S3 notification records (docs/own-code.md).
/**
 * S3 event notifications, locally: s3rver's object events, reshaped into the records S3 sends
 * (eventVersion 2.1, the configured region, a real bucket ARN, URL-encoded keys), filtered like the
 * CDK notification (ObjectCreated under the uploads prefix) and delivered to the transcoder as an
 * asynchronous invocation, one record per event as S3 does.
 */
import { createHash, randomBytes } from 'node:crypto';
import type S3rver from '@20minutes/s3rver';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { MEDIA_PREFIXES, TRANSCODER_FUNCTION } from '../app/model';
import { invokeAsync } from './async-invoke';
import { LocalFunction } from './lambda-runtime';
import type { Log } from './log';

/** The notification configuration id the records carry. */
export const NOTIFICATION_ID = 'chirp-local-uploads';

/** S3 encodes keys in events like a form value: spaces become '+', slashes stay. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();

export function toAwsRecord(raw: S3rver.EventRecord, region: string): S3EventRecord {
  const bucket = raw.s3.bucket.name;
  const object = raw.s3.object;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: raw.eventTime,
    eventName: raw.eventName,
    userIdentity: { principalId: `AWS:${hex(10)}` },
    requestParameters: { sourceIPAddress: raw.requestParameters.sourceIPAddress },
    responseElements: {
      'x-amz-request-id': hex(8),
      'x-amz-id-2': createHash('sha256').update(randomBytes(16)).digest('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: NOTIFICATION_ID,
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: hex(7) },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key: encodeEventKey(object.key),
        size: object.size ?? 0,
        eTag: (object.eTag ?? '').replace(/"/g, ''),
        sequencer: object.sequencer.padStart(18, '0'),
      },
    },
  };
}

/** The CDK notification's filter: ObjectCreated:* under the uploads prefix. */
export const wantedByTranscoder = (raw: S3rver.EventRecord): boolean =>
  raw.eventName.startsWith('ObjectCreated:') &&
  raw.s3.object.key.startsWith(MEDIA_PREFIXES.uploads);

/**
 * Decides how one upload event reaches the transcoder. `deliver` hands it to the asynchronous
 * delivery (with Lambda's retries); a router (the soak's faults) may call it twice, late, or never.
 */
export type UploadRouter = (raw: S3rver.EventRecord, deliver: () => void) => void;

export interface S3EventDelivery {
  /** Pass to the S3 emulator's onEvent. */
  readonly onEvent: (raw: S3rver.EventRecord) => void;
  /** Replaceable at any time; the default delivers each event once. */
  router: UploadRouter;
  /**
   * Events whose asynchronous invocation failed on every attempt: the transcoder's on-failure
   * destination (an SQS queue in AWS, which nothing consumes automatically).
   */
  readonly failureDestination: S3rver.EventRecord[];
  /** Delivers the failure destination's events again, as an operator's redrive would. */
  redriveFailures(): number;
  /** Resolves when every delivery in flight has finished (used on shutdown and in tests). */
  idle(): Promise<void>;
}

export function createS3EventDelivery(options: { region: string; log: Log }): S3EventDelivery {
  const transcoder = new LocalFunction<S3Event, unknown>(TRANSCODER_FUNCTION, options.region);
  const inFlight = new Set<Promise<unknown>>();
  const failureDestination: S3rver.EventRecord[] = [];
  const deliver = (raw: S3rver.EventRecord) => {
    const record = toAwsRecord(raw, options.region);
    const delivery = invokeAsync((id) => transcoder.invoke({ Records: [record] }, id), {
      describe: `transcoder for ${raw.s3.object.key}`,
      log: options.log,
    }).then((ok) => {
      if (!ok) failureDestination.push(raw);
    });
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
  };
  const delivery: S3EventDelivery = {
    onEvent: (raw) => {
      if (wantedByTranscoder(raw)) delivery.router(raw, () => deliver(raw));
    },
    router: (_raw, send) => send(),
    failureDestination,
    redriveFailures: () => {
      const events = failureDestination.splice(0);
      for (const raw of events) deliver(raw);
      return events.length;
    },
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
  return delivery;
}
