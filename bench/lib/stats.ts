/** Timing and summary statistics shared by every figure. */

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const mean = samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length);
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean,
  };
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Milliseconds elapsed since `start` (from process.hrtime.bigint()). */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Times one async call in ms. */
export async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return msSince(start);
}

export interface PairOptions {
  readonly warmup: number;
  readonly samples: number;
  /** Called every ~5% with the fraction done. */
  readonly onProgress?: (fraction: number) => void;
}

/**
 * Measures two operations interleaved (A B, B A, A B, ...) so that machine noise lands on both
 * alike and their ratio stays meaningful on a busy machine.
 */
export async function measurePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: PairOptions,
): Promise<{ a: Summary; b: Summary }> {
  for (let i = 0; i < options.warmup; i++) {
    await a();
    await b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  const step = Math.max(1, Math.floor(options.samples / 20));
  for (let i = 0; i < options.samples; i++) {
    if (i % 2 === 0) {
      as.push(await timeMs(a));
      bs.push(await timeMs(b));
    } else {
      bs.push(await timeMs(b));
      as.push(await timeMs(a));
    }
    if (i % step === 0) options.onProgress?.(i / options.samples);
  }
  options.onProgress?.(1);
  return { a: summarize(as), b: summarize(bs) };
}

/** Measures one operation: warm-up, then `samples` timed calls. */
export async function measure(
  run: (i: number) => Promise<unknown>,
  options: PairOptions,
): Promise<Summary> {
  for (let i = 0; i < options.warmup; i++) await run(-1 - i);
  const samples: number[] = [];
  const step = Math.max(1, Math.floor(options.samples / 20));
  for (let i = 0; i < options.samples; i++) {
    samples.push(await timeMs(() => run(i)));
    if (i % step === 0) options.onProgress?.(i / options.samples);
  }
  options.onProgress?.(1);
  return summarize(samples);
}
