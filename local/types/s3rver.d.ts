/** The parts of @20minutes/s3rver (which ships no types) that the local runtime uses. */
declare module '@20minutes/s3rver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { AddressInfo } from 'node:net';

  namespace S3rver {
    interface BucketConfig {
      name: string;
      configs?: (string | Buffer)[];
    }

    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: BucketConfig[];
    }

    /** The record s3rver emits on its 'event' channel (AWS-like, but not exactly AWS's shape). */
    interface EventRecord {
      eventVersion: string;
      eventSource: string;
      awsRegion: string;
      eventTime: string;
      eventName: string;
      userIdentity: { principalId: string };
      requestParameters: { sourceIPAddress: string };
      responseElements: Record<string, string>;
      s3: {
        s3SchemaVersion: string;
        configurationId: string;
        bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
        object: { key: string; size?: number; eTag?: string; sequencer: string };
      };
    }
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.Options);
    /** The filesystem store; bucket configurations (cors.xml) live there too. */
    readonly store: {
      deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
    };
    run(): Promise<AddressInfo>;
    /** Creates the configured buckets (run() does this before listening). */
    configureBuckets(): Promise<void>;
    /** The Koa request listener, to serve s3rver from another http.Server. */
    /** Koa's request handler: settles once the response is handled. */
    callback(): (request: IncomingMessage, response: ServerResponse) => Promise<void>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: { Records: S3rver.EventRecord[] }) => void): this;
    on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  }

  export = S3rver;
}

/** s3rver's one account and its key pairs: the emulator checks signatures against these. */
declare module '@20minutes/s3rver/lib/models/account' {
  export const DUMMY_ACCOUNT: {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  };
}

/** s3rver's error: rendered by s3rver as S3's XML error, with the status its code maps to. */
declare module '@20minutes/s3rver/lib/models/error' {
  export default class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
    status: number;
    toXML(): string;
  }
}

/** s3rver's internals that local/s3-multipart.ts extends (module singletons). */
declare module '@20minutes/s3rver/lib/controllers/object' {
  const controller: Record<string, unknown>;
  export default controller;
}

declare module '@20minutes/s3rver/lib/routes' {
  const router: { stack: unknown[] };
  export default router;
}

declare module '@20minutes/s3rver/lib/models/event' {
  import type S3rver from '@20minutes/s3rver';
  export default class S3Event {
    constructor(
      data: { bucket: string; eventType: 'Put' | 'Post' | 'Copy' | 'Delete'; S3Item: unknown },
      request: { reqHeaders: Record<string, string>; sourceIp: string },
    );
    Records: S3rver.EventRecord[];
  }
}

declare module '@20minutes/s3rver/lib/models/object' {
  export default class S3Object {
    constructor(bucket: string, key: string, content: unknown, metadata: Record<string, unknown>);
  }
}

declare module '@20minutes/s3rver/lib/utils' {
  export function xmlBodyParser(ctx: unknown): Promise<void>;
}
