/**
 * Runs a function of the app model in this process the way Lambda would: the entry module is
 * loaded once and stays warm, each invocation gets a Lambda-shaped context, and the function's
 * timeout applies.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../app/model';

export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

const REPO_ROOT = resolve(__dirname, '..');
const ACCOUNT_ID = '000000000000';

export class FunctionTimeoutError extends Error {
  constructor(functionName: string, seconds: number) {
    super(`${functionName} timed out after ${seconds} s`);
    this.name = 'FunctionTimeoutError';
  }
}

export class LocalFunction<TEvent, TResult> {
  readonly functionName: string;
  private handler: Promise<LambdaHandler<TEvent, TResult>> | undefined;

  constructor(
    readonly spec: FunctionSpec,
    private readonly region: string,
  ) {
    this.functionName = `chirp-local-${spec.id}`;
  }

  /** Loads the entry once (a cold start); later calls reuse the module and its clients. */
  private load(): Promise<LambdaHandler<TEvent, TResult>> {
    if (this.handler !== undefined) return this.handler;
    const loading = (async () => {
      const url = pathToFileURL(resolve(REPO_ROOT, this.spec.entry)).href;
      const loaded = (await import(url)) as {
        handler?: unknown;
        default?: { handler?: unknown };
      };
      const handler = loaded.handler ?? loaded.default?.handler;
      if (typeof handler !== 'function') {
        throw new Error(`${this.spec.entry} does not export a handler function`);
      }
      return handler as LambdaHandler<TEvent, TResult>;
    })();
    // A failed load (e.g. the file does not exist yet) is retried on the next invocation.
    loading.catch(() => {
      if (this.handler === loading) this.handler = undefined;
    });
    this.handler = loading;
    return loading;
  }

  /** Invokes the handler; rejects with its error, or FunctionTimeoutError past the timeout. */
  async invoke(event: TEvent): Promise<TResult> {
    const handler = await this.load();
    const timeoutSeconds = this.spec.timeoutSeconds ?? 10;
    const deadline = Date.now() + timeoutSeconds * 1000;
    const context = this.context(deadline);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FunctionTimeoutError(this.functionName, timeoutSeconds)),
        timeoutSeconds * 1000,
      );
    });
    try {
      return await Promise.race([handler(event, context), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private context(deadline: number): Context {
    const unsupported = () => {
      throw new Error('callback-style context methods are not supported; return a promise');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${ACCOUNT_ID}:function:${this.functionName}`,
      memoryLimitInMB: String(this.spec.memoryMb ?? 512),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }
}
