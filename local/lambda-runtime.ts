// Own code: runs the handler modules in-process, without Docker (docs/own-code.md).
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
  /** One log stream per execution environment, as on Lambda (not one per invocation). */
  private readonly logStreamName = `local/[$LATEST]${randomUUID().replace(/-/g, '')}`;
  private handler: Promise<LambdaHandler<TEvent, TResult>> | undefined;
  /** The handler once loaded, so warm invocations skip awaiting the load. */
  private loaded: LambdaHandler<TEvent, TResult> | undefined;

  private readonly functionArn: string;
  private readonly memoryLimitInMB: string;
  private readonly logGroupName: string;

  constructor(
    readonly spec: FunctionSpec,
    region: string,
  ) {
    this.functionName = `chirp-local-${spec.id}`;
    this.functionArn = `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${this.functionName}`;
    this.memoryLimitInMB = String(spec.memoryMb ?? 512);
    this.logGroupName = `/aws/lambda/${this.functionName}`;
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
    loading.then(
      (handler) => {
        if (this.handler === loading) this.loaded = handler;
      },
      () => {
        if (this.handler === loading) this.handler = undefined;
      },
    );
    this.handler = loading;
    return loading;
  }

  /** Invokes the handler; rejects with its error, or FunctionTimeoutError past the timeout. */
  invoke(event: TEvent): Promise<TResult> {
    const handler = this.loaded;
    if (handler === undefined) return this.load().then((loaded) => this.run(loaded, event));
    return this.run(handler, event);
  }

  /** One promise settled by the handler or by the timeout, whichever comes first. */
  private run(handler: LambdaHandler<TEvent, TResult>, event: TEvent): Promise<TResult> {
    const timeoutMs = (this.spec.timeoutSeconds ?? 10) * 1000;
    const context = this.context(Date.now() + timeoutMs);
    return new Promise<TResult>((resolveResult, reject) => {
      const timer = setTimeout(() => reject(this.timeoutError()), timeoutMs);
      let result: Promise<TResult>;
      try {
        result = Promise.resolve(handler(event, context));
      } catch (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      result.then(
        (value) => {
          clearTimeout(timer);
          resolveResult(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private timeoutError(): FunctionTimeoutError {
    return new FunctionTimeoutError(this.functionName, this.spec.timeoutSeconds ?? 10);
  }

  private context(deadline: number): Context {
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn,
      memoryLimitInMB: this.memoryLimitInMB,
      awsRequestId: randomUUID(),
      logGroupName: this.logGroupName,
      logStreamName: this.logStreamName,
      getRemainingTimeInMillis: remainingTime(deadline),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }
}

// Module-level functions rather than named closures per invocation: tsx compiles with keepNames,
// which adds an Object.defineProperty(fn, 'name') call for every named closure it creates.
function unsupported(): never {
  throw new Error('callback-style context methods are not supported; return a promise');
}

function remainingTime(deadline: number): () => number {
  return () => Math.max(0, deadline - Date.now());
}
