import { mkdirSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';
import type { IncomingMessage } from 'node:http';
import { serveHttp, type LocalHttpServer } from './http-server';
import { bucketCorsXml } from './cors';
import { fixBucketLevelRequest } from './s3-bucket-paths';
import type { Log } from './log';

/** The local media bucket. */
export const S3_BUCKET_NAME = 'chirp-media';

/** The access key pair s3rver accepts; its signature checks need these exact values. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3EmulatorOptions {
  readonly directory: string;
  readonly bucket: string;
  readonly log: Log;
  /**
   * Origins the bucket's CORS rule allows (browsers PUT to presigned URLs); the rule itself is the
   * app model's UPLOAD_CORS, as on the CDK bucket. Empty or undefined: no CORS configuration.
   */
  readonly corsOrigins?: readonly string[];
  /** Receives s3rver's (not quite AWS-shaped) event records; see s3-events.ts. */
  readonly onEvent?: (record: S3rver.EventRecord) => void;
}

/**
 * @20minutes/s3rver in this process: checks SigV4 signatures (header and presigned), signed
 * headers and lengths, and emits object events.
 */
/** Has the request any of S3's authentication mechanisms (header, SigV4 or SigV2 query)? */
function isSigned(request: IncomingMessage): boolean {
  if (request.headers.authorization !== undefined) return true;
  const query = new URL(request.url ?? '/', 'http://s3.local').searchParams;
  return query.has('X-Amz-Signature') || query.has('Signature');
}

const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/**
 * @20minutes/s3rver in this process: checks SigV4 signatures (header and presigned), signed
 * headers and lengths, and emits object events. s3rver lets anonymous requests through; the bucket
 * in AWS blocks all public access, so unsigned requests (other than CORS preflights) get S3's 403
 * AccessDenied here too.
 */
export class S3Emulator {
  private server: LocalHttpServer | undefined;
  private port = 0;

  constructor(private readonly options: S3EmulatorOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    mkdirSync(this.options.directory, { recursive: true });
    const corsXml = bucketCorsXml(this.options.corsOrigins ?? []);
    const s3rver = new S3rver({
      silent: true,
      directory: this.options.directory,
      // Path-style only: the SDK is configured with forcePathStyle against 127.0.0.1.
      vhostBuckets: false,
      configureBuckets: [
        { name: this.options.bucket, configs: corsXml === undefined ? [] : [corsXml] },
      ],
    });
    s3rver.on('error', (error: unknown) => {
      // Client errors (bad signature, wrong length) are answered with S3's XML errors already.
      const status = (error as { status?: number }).status;
      if (status === undefined || status >= 500) this.options.log(`s3: ${String(error)}`);
    });
    const { onEvent } = this.options;
    if (onEvent !== undefined) {
      s3rver.on('event', (event) => {
        for (const record of event.Records) onEvent(record);
      });
    }
    await s3rver.configureBuckets();
    // configureBuckets only adds configurations: a data dir from a run with CORS keeps its rule.
    if (corsXml === undefined)
      await s3rver.store.deleteSubresource(this.options.bucket, undefined, 'cors');
    const serveS3 = s3rver.callback();
    // Reuse the port on restart so clients configured with the endpoint keep working.
    this.server = await serveHttp(
      this.port,
      async (request, response) => {
        if (request.method !== 'OPTIONS' && !isSigned(request)) {
          response.writeHead(403, { 'content-type': 'application/xml' });
          response.end(ACCESS_DENIED);
          request.resume();
          return;
        }
        await fixBucketLevelRequest(request, S3RVER_CREDENTIALS);
        serveS3(request, response);
      },
      (error, response) => {
        this.options.log(`s3: ${String(error)}`);
        if (!response.headersSent) response.writeHead(500);
        response.end();
      },
    );
    this.port = Number(new URL(this.server.url).port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await server.close();
  }
}
