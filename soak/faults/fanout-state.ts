/**
 * Switches and counters of the fanout fault wrapper (./fanout.ts), which the stream pump calls in
 * the soak driver's own thread. They live on globalThis, so the driver reaches the same object
 * without loading any handler code (which needs the stack's environment first).
 */
export interface FanoutFaults {
  /** Batches still to deliver twice, concurrently. */
  duplicateNext: number;
  /** Batches still to fail after they were applied (the pump retries them). */
  failAfterApplyNext: number;
  /** Batches delivered twice so far. */
  duplicated: number;
  /** Batches failed after apply so far. */
  failedAfterApply: number;
  /** Records the real handler was given, counting repeats. */
  recordsSeen: number;
}

declare global {
  var __chirpSoakFanoutFaults: FanoutFaults | undefined;
}

export function fanoutFaults(): FanoutFaults {
  globalThis.__chirpSoakFanoutFaults ??= {
    duplicateNext: 0,
    failAfterApplyNext: 0,
    duplicated: 0,
    failedAfterApply: 0,
    recordsSeen: 0,
  };
  return globalThis.__chirpSoakFanoutFaults;
}
