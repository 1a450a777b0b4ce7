/**
 * Small DynamoDB helpers the domain shares: chunked BatchGet with retries of unprocessed keys,
 * paged Query, and reading a cancelled transaction's reasons.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DocumentStore } from './document-store';

type Key = Record<string, string>;
type Item = Record<string, unknown>;

const BATCH_GET_MAX = 100;
const UNPROCESSED_RETRIES = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads many items by key from one table: chunks of 100 in parallel, unprocessed keys retried with
 * backoff. Missing items are simply absent from the result.
 */
export async function batchGetAll(
  dynamo: DocumentStore,
  table: string,
  keys: readonly Key[],
  options: { consistent?: boolean; projection?: string } = {},
): Promise<Item[]> {
  const chunks: Key[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    chunks.push(keys.slice(i, i + BATCH_GET_MAX));
  }
  const results = await Promise.all(
    chunks.map((chunk) => batchGetChunk(dynamo, table, chunk, options)),
  );
  return results.flat();
}

async function batchGetChunk(
  dynamo: DocumentStore,
  table: string,
  keys: Key[],
  options: { consistent?: boolean; projection?: string },
): Promise<Item[]> {
  const items: Item[] = [];
  let pending: Key[] = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > UNPROCESSED_RETRIES) {
      throw Object.assign(new Error('BatchGetItem left keys unprocessed'), {
        name: 'ThrottlingException',
      });
    }
    if (attempt > 0) await sleep(Math.min(20 * 2 ** attempt, 500));
    const out = await dynamo.batchGet({
      RequestItems: {
        [table]: {
          Keys: pending,
          ConsistentRead: options.consistent ?? false,
          ...(options.projection !== undefined ? { ProjectionExpression: options.projection } : {}),
        },
      },
    });
    items.push(...((out.Responses?.[table] ?? []) as Item[]));
    pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
  }
  return items;
}

/** Runs a Query through all its pages, or until `maxItems` items were read. */
export async function queryAll(
  dynamo: DocumentStore,
  input: QueryCommandInput,
  maxItems = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.query({
      ...input,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
    items.push(...((out.Items ?? []) as Item[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey !== undefined && items.length < maxItems);
  return items;
}

/** One entry of a TransactionCanceledException's CancellationReasons, in request order. */
export interface CancellationReason {
  readonly Code?: string;
  /** The old item (marshalled) when ReturnValuesOnConditionCheckFailure was ALL_OLD. */
  readonly Item?: Record<string, { S?: string; N?: string } | undefined>;
}

export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
  return reasons ?? [];
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** A conditional write's output, or undefined when its condition failed; other errors throw. */
export async function conditionalWrite<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}

export { sleep };

/** Attempts of a transaction that conflicts with concurrent writers, before giving up. */
export const TRANSACTION_ATTEMPTS = 6;

/** What one attempt of a transaction answers: done with a value, or conflicted (try again). */
export type TransactionAttempt<T> =
  { readonly done: true; readonly value: T } | { readonly done: false; readonly error: unknown };

/**
 * Runs a transaction until an attempt is done: a conflicted attempt (another writer, a
 * TransactionConflict, a condition a re-read may satisfy) is tried again after a short jittered
 * pause, up to TRANSACTION_ATTEMPTS in all; the last conflict's error is thrown.
 */
export async function retryTransaction<T>(
  attempt: (attemptNumber: number) => Promise<TransactionAttempt<T>>,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    const outcome = await attempt(attemptNumber);
    if (outcome.done) return outcome.value;
    if (attemptNumber >= TRANSACTION_ATTEMPTS) throw outcome.error;
    await sleep(10 * attemptNumber + Math.random() * 40);
  }
}

export const done = <T>(value: T): TransactionAttempt<T> => ({ done: true, value });
export const conflicted = (error: unknown): TransactionAttempt<never> => ({ done: false, error });
