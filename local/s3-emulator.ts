import { mkdirSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';
import { DUMMY_ACCOUNT } from '@20minutes/s3rver/lib/models/account';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { allFunctionCredentials, functionOfAccessKey, type IamEnforcer } from './iam/enforcer';
import {
  deleteObjectsKeys,
  isDeleteObjects,
  s3AccessRequests,
  signingAccessKey,
} from './iam/s3-access';
import { serveHttp, type LocalHttpServer } from './http-server';
import { bucketCorsXml } from './cors';
import { fixBucketLevelRequest } from './s3-bucket-paths';
import { applyMultipartRules } from './s3-multipart';
import { applyPutRules, servePut } from './s3-put-rules';
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
  /** Authorizes the functions' calls against their synthesized policies. @default none */
  readonly enforcer?: IamEnforcer | Promise<IamEnforcer>;
}

/** Secret of every access key the emulator accepts: its own (operator) and each function's. */
const SECRETS = new Map<string, string>([
  [S3RVER_CREDENTIALS.accessKeyId, S3RVER_CREDENTIALS.secretAccessKey],
  ...allFunctionCredentials().map((c) => [c.accessKeyId, c.secretAccessKey] as const),
]);
for (const [accessKeyId, secret] of SECRETS) DUMMY_ACCOUNT.createKeyPair(accessKeyId, secret);

/** Lets s3rver read a body the authorizer already read. */
function replay(request: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Readable.from([body]) as unknown as Record<string, unknown>;
  for (const field of [
    'headers',
    'rawHeaders',
    'method',
    'url',
    'httpVersion',
    'httpVersionMajor',
    'httpVersionMinor',
    'socket',
    'trailers',
    'complete',
  ] as const) {
    copy[field] = request[field];
  }
  return copy as unknown as IncomingMessage;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const xmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * S3's answer to a function's call its policy does not allow: 403 AccessDenied, or for
 * DeleteObjects a 200 whose result lists each denied key (limit: the allowed keys of a partly
 * denied DeleteObjects are not deleted here, where S3 would delete them).
 */
function denyS3(response: ServerResponse, message: string, deniedKeys?: readonly string[]): void {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  response.setHeader('x-amz-request-id', requestId);
  response.setHeader('content-type', 'application/xml');
  if (deniedKeys !== undefined) {
    response.writeHead(200);
    response.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deniedKeys
        .map(
          (key) =>
            `<Error><Key>${xmlEscape(key)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`,
        )
        .join('')}</DeleteResult>`,
    );
    return;
  }
  response.writeHead(403);
  response.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`,
  );
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
    applyPutRules(s3rver);
    applyMultipartRules(s3rver);
    const koa = s3rver.callback();
    /** s3rver, with the PUT rules it lacks (s3-put-rules.ts). */
    const serveS3 = (request: IncomingMessage, response: ServerResponse) =>
      servePut(request, response, () => koa(request, response));
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
        const accessKeyId = signingAccessKey(request) ?? '';
        const secretAccessKey = SECRETS.get(accessKeyId);
        if (secretAccessKey !== undefined) {
          await fixBucketLevelRequest(request, { accessKeyId, secretAccessKey });
        }
        const functionId = functionOfAccessKey(accessKeyId);
        const enforcer = await this.options.enforcer;
        // CORS preflights carry no credentials of their own (a presigned URL's query is not one).
        if (functionId === undefined || enforcer === undefined || request.method === 'OPTIONS') {
          await serveS3(request, response);
          return;
        }
        let forwarded = request;
        let deleteKeys: string[] = [];
        if (isDeleteObjects(request)) {
          const body = await readBody(request);
          deleteKeys = deleteObjectsKeys(body.toString('utf8'));
          forwarded = replay(request, body);
        }
        const requests = s3AccessRequests(request, deleteKeys);
        const denial = await enforcer.firstDenied(functionId, requests);
        if (denial !== undefined) {
          this.options.log(
            `iam: denied ${functionId} ${denial.request.action} on ${denial.request.resource}`,
          );
          if (isDeleteObjects(request)) {
            const denied: string[] = [];
            for (const one of requests) {
              if ((await enforcer.firstDenied(functionId, [one])) !== undefined) {
                denied.push(one.resource.split('/').slice(1).join('/'));
              }
            }
            denyS3(response, denial.message, denied);
          } else {
            request.resume();
            denyS3(response, denial.message);
          }
          return;
        }
        await serveS3(forwarded, response);
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
