// Own code: runs the handler modules in-process, without Docker (docs/own-code.md).
/**
 * Runs a function of the app model the way Lambda would: in an execution environment of its own
 * (a worker thread, lambda-worker.ts) with its own module state, its own environment and its own
 * AWS credentials, so every call it makes to DynamoDB or S3 is signed as that function and
 * authorized against its role policy (local/iam/). The entry module is loaded once and stays warm,
 * each invocation gets a Lambda-shaped context, and the function's timeout applies.
 *
 * One environment runs up to LOCAL_MAX_CONCURRENCY invocations at once, interleaved, as a Node.js
 * environment of Lambda Managed Instances does (Lambda's default model runs one at a time); more
 * wait their turn. It says so as that runtime does, with AWS_LAMBDA_MAX_CONCURRENCY, and the
 * worker runs each invocation in the Lambda InvokeStore's context, so the runtime libraries
 * (Powertools' logger and metrics) keep each invocation's state its own: without it, an invocation
 * that logged after another had started logged with the other one's request ids. A timed-out
 * invocation is abandoned (its promise rejected), not frozen.
 *
 * Invocations started in one tick go to the worker as one message, and the worker sends the
 * results of one tick back as one (tick-batch.ts).
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { FunctionSpec } from '../app/model';
import { functionCredentials } from './iam/enforcer';
import { Slots } from './slots';
import { TickBatch } from './tick-batch';
import type { InvokeMessage, ResultMessage, WorkerSetup } from './lambda-worker';

const ACCOUNT_ID = '000000000000';

/**
 * Invocations one local environment runs at once: the Node.js default of Lambda Managed Instances
 * per vCPU (PerExecutionEnvironmentMaxConcurrency); a local environment is one worker thread.
 */
export const LOCAL_MAX_CONCURRENCY = 64;
const WORKER_ENTRY = resolve(__dirname, 'lambda-worker.ts');

/** A CloudWatch embedded-metric-format document: a JSON line with a metrics directive. */
export const isEmfLine = (line: string): boolean =>
  line.startsWith('{') && line.includes('"CloudWatchMetrics"');

type LogListener = (line: string) => void;
const logListeners = new Set<LogListener>();

/**
 * Observes every line the functions write to stdout (their log stream, where CloudWatch reads
 * EMF metrics from). Returns an unsubscribe.
 */
export function onFunctionLog(listener: LogListener): () => void {
  logListeners.add(listener);
  return () => logListeners.delete(listener);
}

export class FunctionTimeoutError extends Error {
  constructor(functionName: string, seconds: number) {
    super(`${functionName} timed out after ${seconds} s`);
    this.name = 'FunctionTimeoutError';
  }
}

/** The function's error, rebuilt in this thread with its name, message and stack. */
class FunctionError extends Error {
  constructor(error: { name: string; message: string; stack?: string }) {
    super(error.message);
    this.name = error.name;
    if (error.stack !== undefined) this.stack = error.stack;
  }
}

/** One invocation, from invoke() until its result, error or timeout. */
interface Invocation<TResult> {
  readonly id: number;
  /** Counted against the environment's concurrency (sent to it), not waiting in the queue. */
  running: boolean;
  resolve(value: TResult): void;
  reject(error: Error): void;
}

export class LocalFunction<TEvent, TResult> {
  readonly functionName: string;
  private worker: Worker | undefined;
  private nextId = 0;
  /** Invocations in flight, queued or running (see Slots for why not a Map by id). */
  private readonly slots = new Slots<Invocation<TResult>>();
  private runningCount = 0;
  private queued: InvokeMessage[] = [];
  private readonly outbox = new TickBatch<InvokeMessage>((batch) =>
    this.environment().postMessage(batch),
  );
  private readonly setup: WorkerSetup;

  constructor(
    readonly spec: FunctionSpec,
    region: string,
  ) {
    this.functionName = `chirp-local-${spec.id}`;
    this.setup = {
      entry: spec.entry,
      functionName: this.functionName,
      functionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${this.functionName}`,
      memoryLimitInMB: String(spec.memoryMb ?? 512),
    };
  }

  /** The execution environment, created on first use (a cold start), with its own environment. */
  private environment(): Worker {
    if (this.worker !== undefined) return this.worker;
    const credentials = functionCredentials(this.spec.id);
    const worker = new Worker(WORKER_ENTRY, {
      workerData: this.setup,
      // Read here: passed on to this process's stdout, line by line, and to the log listeners.
      stdout: true,
      // The handler environment as the stack set it, signed in as this function.
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_LAMBDA_FUNCTION_NAME: this.functionName,
        // Created on first use, as Lambda's on-demand environments are (the libraries' cold_start).
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_MAX_CONCURRENCY: String(LOCAL_MAX_CONCURRENCY),
      },
    });
    worker.unref();
    createInterface({ input: worker.stdout, crlfDelay: Infinity }).on('line', (line) => {
      for (const listener of logListeners) listener(line);
      // EMF documents are CloudWatch's input, not a developer's: the listeners sum them
      // (local/metrics-summary.ts); every other line is passed on.
      if (!isEmfLine(line)) process.stdout.write(`${line}\n`);
    });
    worker.on('message', (messages: readonly ResultMessage[]) => {
      for (const message of messages) {
        // A timed-out invocation's late result finds its slot empty or another's: it is dropped.
        const invocation = this.end(message.slot, message.id);
        if (invocation === undefined) continue;
        if (message.ok) invocation.resolve(message.result as TResult);
        else invocation.reject(new FunctionError(message.error));
      }
    });
    // The environment died (an uncaught error, like a Lambda runtime crash): its invocations fail
    // and the next one starts a new environment. Only the current environment's end counts: a
    // crash reports 'error' and then 'exit', by when the next invocation may have started a new
    // environment whose invocations are not this one's; a stopped one has failed them already.
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failInvocations(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${this.functionName} exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  /**
   * Invokes the handler; rejects with its error, or FunctionTimeoutError past the timeout.
   * `requestId`: the retries of one asynchronous event share it, as on Lambda. @default a new one
   */
  invoke(event: TEvent, requestId?: string): Promise<TResult> {
    const timeoutSeconds = this.spec.timeoutSeconds ?? 10;
    const id = this.nextId++;
    return new Promise<TResult>((resolveResult, reject) => {
      const timer = setTimeout(() => {
        if (this.end(slot, id) === undefined) return;
        this.queued = this.queued.filter((queued) => queued.id !== id);
        reject(new FunctionTimeoutError(this.functionName, timeoutSeconds));
      }, timeoutSeconds * 1000);
      const slot = this.slots.add({
        id,
        running: false,
        resolve: (value) => {
          clearTimeout(timer);
          resolveResult(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send({
        id,
        slot,
        event,
        deadline: Date.now() + timeoutSeconds * 1000,
        ...(requestId !== undefined ? { requestId } : {}),
      });
    });
  }

  /** Starts the invocation if the environment has room, else queues it. */
  private send(message: InvokeMessage): void {
    const invocation = this.slots.get(message.slot);
    if (invocation?.id !== message.id) return;
    if (this.runningCount >= LOCAL_MAX_CONCURRENCY) {
      this.queued.push(message);
      return;
    }
    invocation.running = true;
    this.runningCount++;
    this.outbox.push(message);
  }

  /**
   * An invocation ended (answered, failed or timed out): its slot is freed, and if it was running
   * the next queued one starts. Undefined when it had already ended.
   */
  private end(slot: number, id: number): Invocation<TResult> | undefined {
    const invocation = this.slots.get(slot);
    if (invocation?.id !== id) return undefined;
    this.slots.take(slot);
    if (invocation.running) {
      this.runningCount--;
      const next = this.queued.shift();
      if (next !== undefined) this.send(next);
    }
    return invocation;
  }

  /**
   * Fails every invocation not answered yet: they all belong to the one environment, the running,
   * the queued and those not yet sent (which the next environment must not run).
   */
  private failInvocations(error: Error): void {
    const failed = this.slots.takeAll();
    this.runningCount = 0;
    this.queued = [];
    this.outbox.clear();
    for (const invocation of failed) invocation.reject(error);
  }

  /** Ends the execution environment (the next invocation is a cold start). */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    this.failInvocations(new Error(`${this.functionName} stopped`));
    await worker.terminate();
  }
}
