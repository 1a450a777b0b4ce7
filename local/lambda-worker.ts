/**
 * One function's execution environment: a worker thread that loads the function's entry once
 * (cold start) with its own module state and its own environment (its own AWS credentials), and
 * runs the invocations the main thread sends it, each in the Lambda InvokeStore's context (as the
 * runtime of Lambda Managed Instances does; AWS_LAMBDA_MAX_CONCURRENCY makes it an
 * AsyncLocalStorage). See lambda-runtime.ts.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { TickBatch } from './tick-batch';

export interface WorkerSetup {
  readonly entry: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryLimitInMB: string;
}

export interface InvokeMessage {
  /** The invocation's number, and where the caller keeps it until the result: both come back. */
  readonly id: number;
  readonly slot: number;
  readonly event: unknown;
  readonly deadline: number;
  /** The request id, when the caller has one: Lambda keeps it across an async event's retries. */
  readonly requestId?: string;
}

export type ResultMessage =
  | { readonly id: number; readonly slot: number; readonly ok: true; readonly result: unknown }
  | {
      readonly id: number;
      readonly slot: number;
      readonly ok: false;
      readonly error: { name: string; message: string; stack?: string };
    };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const REPO_ROOT = resolve(__dirname, '..');
const setup = workerData as WorkerSetup;
/** One log stream per execution environment, as on Lambda (not one per invocation). */
const logStreamName = `local/[$LATEST]${randomUUID().replace(/-/g, '')}`;

/** Made before the handler loads, as the runtime does: the libraries find it on globalThis.awslambda. */
const invokeStore = InvokeStore.getInstanceAsync();

let loading: Promise<Handler> | undefined;
/** The handler, each call of it run in the InvokeStore's context of its request id. */
function load(): Promise<Handler> {
  loading ??= (async () => {
    const store = await invokeStore;
    const loaded = (await import(pathToFileURL(resolve(REPO_ROOT, setup.entry)).href)) as {
      handler?: unknown;
      default?: { handler?: unknown };
    };
    const handler = loaded.handler ?? loaded.default?.handler;
    if (typeof handler !== 'function') {
      throw new Error(`${setup.entry} does not export a handler function`);
    }
    const run = handler as Handler;
    return (event, context) =>
      store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
        run(event, context),
      );
  })();
  // A failed load is retried on the next invocation.
  loading.catch(() => (loading = undefined));
  return loading;
}

function unsupported(): never {
  throw new Error('callback-style context methods are not supported; return a promise');
}

function context(deadline: number, requestId: string = randomUUID()): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: setup.functionArn,
    memoryLimitInMB: setup.memoryLimitInMB,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${setup.functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Results of one tick go back as one message. */
const results = new TickBatch<ResultMessage>((batch) => parentPort?.postMessage(batch));

function invoke(message: InvokeMessage): void {
  load()
    .then((handler) => handler(message.event, context(message.deadline, message.requestId)))
    .then(
      (result) => results.push({ id: message.id, slot: message.slot, ok: true, result }),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        results.push({
          id: message.id,
          slot: message.slot,
          ok: false,
          error: {
            name: failure.name,
            message: failure.message,
            ...(failure.stack !== undefined ? { stack: failure.stack } : {}),
          },
        });
      },
    );
}

parentPort?.on('message', (messages: readonly InvokeMessage[]) => {
  for (const message of messages) invoke(message);
});
