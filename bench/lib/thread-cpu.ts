// Own code: pidusage reports a process's total, and Node's threadCpuUsage()/worker.cpuUsage() one JS thread each, not V8's GC threads (docs/own-code.md).
/**
 * Where a throughput figure's CPU went: this process's threads' CPU time and the machine's idle
 * time, read from Linux's /proc before and after each slice of load (undefined without /proc).
 * Threads are grouped by the names Node gives them: the main thread, worker threads (a local
 * function's execution environment), and V8's platform threads (parallel and concurrent GC,
 * background compilation).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc counts CPU time in these ticks on every Linux architecture Node runs on. */
const TICK_US = 1_000_000 / 100;

export type ThreadGroup = 'main' | 'workers' | 'v8' | 'other';

export interface CpuSample {
  /** CPU time by thread id, with the thread's group. */
  readonly threads: ReadonlyMap<string, { readonly group: ThreadGroup; readonly us: number }>;
  readonly idleUs: number;
  readonly totalUs: number;
}

/** User plus system time of a /proc stat line, and the command name between its parentheses. */
function parseStat(raw: string): { name: string; us: number } {
  const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), counted from the state field (3) after the name.
  return { name, us: (Number(fields[11]) + Number(fields[12])) * TICK_US };
}

const groupOf = (tid: string, name: string): ThreadGroup =>
  tid === String(process.pid)
    ? 'main'
    : name === 'WorkerThread'
      ? 'workers'
      : name.startsWith('V8')
        ? 'v8'
        : 'other';

export function sampleCpu(): CpuSample | undefined {
  try {
    const threads = new Map<string, { group: ThreadGroup; us: number }>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const { name, us } = parseStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
        threads.set(tid, { group: groupOf(tid, name), us });
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    // The first line of /proc/stat: all CPUs' ticks by state; idle and iowait are the 4th and 5th.
    const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return {
      threads,
      idleUs: ((ticks[3] ?? 0) + (ticks[4] ?? 0)) * TICK_US,
      totalUs: ticks.reduce((sum, t) => sum + t, 0) * TICK_US,
    };
  } catch {
    return undefined;
  }
}

/** CPU used between two samples, summed by group (threads that started meanwhile count whole). */
export interface CpuUse {
  readonly byGroup: Readonly<Record<ThreadGroup, number>>;
  readonly processUs: number;
  readonly idleUs: number;
  readonly totalUs: number;
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  const byGroup: Record<ThreadGroup, number> = { main: 0, workers: 0, v8: 0, other: 0 };
  for (const [tid, { group, us }] of after.threads) {
    byGroup[group] += us - (before.threads.get(tid)?.us ?? 0);
  }
  return {
    byGroup,
    processUs: byGroup.main + byGroup.workers + byGroup.v8 + byGroup.other,
    idleUs: after.idleUs - before.idleUs,
    totalUs: after.totalUs - before.totalUs,
  };
}

/** Sums of several slices' use. */
export function addCpuUse(a: CpuUse, b: CpuUse): CpuUse {
  return {
    byGroup: {
      main: a.byGroup.main + b.byGroup.main,
      workers: a.byGroup.workers + b.byGroup.workers,
      v8: a.byGroup.v8 + b.byGroup.v8,
      other: a.byGroup.other + b.byGroup.other,
    },
    processUs: a.processUs + b.processUs,
    idleUs: a.idleUs + b.idleUs,
    totalUs: a.totalUs + b.totalUs,
  };
}

export const NO_CPU_USE: CpuUse = {
  byGroup: { main: 0, workers: 0, v8: 0, other: 0 },
  processUs: 0,
  idleUs: 0,
  totalUs: 0,
};
