/**
 * The fanout Lambda behind a fault wrapper, for the soak's stream pump. On request it delivers a
 * batch twice at once (two concurrent invocations, as when a batch is retried while a slow first
 * attempt is still running), or fails a batch after the real handler applied it, so the event
 * source mapping retries the whole batch. Either way the real handler sees each record again.
 *
 * The switches and counters live in ./fanout-state.ts, on globalThis.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { handler as fanout } from '../../lambdas/events/fanout';
import { fanoutFaults } from './fanout-state';

export class InjectedFanoutFailure extends Error {
  constructor() {
    super('injected: the batch was applied, then the invocation failed');
    this.name = 'InjectedFanoutFailure';
  }
}

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const faults = fanoutFaults();
  const records = event.Records?.length ?? 0;
  if (records > 0 && faults.duplicateNext > 0) {
    faults.duplicateNext -= 1;
    faults.duplicated += 1;
    faults.recordsSeen += 2 * records;
    const [first, second] = await Promise.all([fanout(event), fanout(event)]);
    // Report the union of failures: the pump retries from the earliest one.
    return first.batchItemFailures.length >= second.batchItemFailures.length ? first : second;
  }
  faults.recordsSeen += records;
  const result = await fanout(event);
  if (records > 0 && faults.failAfterApplyNext > 0 && result.batchItemFailures.length === 0) {
    faults.failAfterApplyNext -= 1;
    faults.failedAfterApply += 1;
    throw new InjectedFanoutFailure();
  }
  return result;
}
