/**
 * Fault injection at the fanout's event source mapping, for the soak's stream pump: on request a
 * batch is delivered twice at once (two concurrent invocations, as when a batch is retried while
 * a slow first attempt is still running), or failed after the real function applied it, so the
 * mapping retries the whole batch. Either way the function sees each record again. It runs in the
 * pump, outside the function (whose own thread the soak driver cannot reach), as such faults do on
 * AWS.
 *
 * The switches and counters are in ./fanout-state.ts.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { BatchInvoke, BatchResult } from '../../local/stream-pump';
import { fanoutFaults } from './fanout-state';

export class InjectedFanoutFailure extends Error {
  constructor() {
    super('injected: the batch was applied, then the invocation failed');
    this.name = 'InjectedFanoutFailure';
  }
}

const failuresOf = (result: BatchResult) => result?.batchItemFailures ?? [];

export async function deliverWithFaults(
  invoke: BatchInvoke,
  event: DynamoDBStreamEvent,
): Promise<BatchResult> {
  const faults = fanoutFaults();
  const records = event.Records?.length ?? 0;
  if (records > 0 && faults.duplicateNext > 0) {
    faults.duplicateNext -= 1;
    faults.duplicated += 1;
    faults.recordsSeen += 2 * records;
    const [first, second] = await Promise.all([invoke(event), invoke(event)]);
    // Each reports failures from its first failed record on: the longer list starts earlier, and
    // the pump retries from there.
    return failuresOf(first).length >= failuresOf(second).length ? first : second;
  }
  faults.recordsSeen += records;
  const result = await invoke(event);
  if (records > 0 && faults.failAfterApplyNext > 0 && failuresOf(result).length === 0) {
    faults.failAfterApplyNext -= 1;
    faults.failedAfterApply += 1;
    throw new InjectedFanoutFailure();
  }
  return result;
}
