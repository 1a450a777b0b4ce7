/** The benchmark's results: the JSON schema of issue #5, the printed table, and progress lines. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';

/** One row of results[] exactly as issue #5 specifies it. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: string;
  readonly baseline_value: number | null;
  readonly ratio: number | null;
  readonly goal: string;
  readonly met: boolean;
}

/** A row plus what only the printed table shows (p99 and other context). */
export interface Row extends BenchResult {
  readonly note?: string;
}

export const REPORT_ONLY = 'none (report only)';

export interface BenchReport {
  readonly machine: { readonly cpus: number; readonly node: string; readonly date: string };
  readonly results: BenchResult[];
}

export function machine(): BenchReport['machine'] {
  return { cpus: cpus().length, node: process.version, date: new Date().toISOString() };
}

const round = (x: number, digits = 3): number => {
  if (!Number.isFinite(x)) return x;
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
};

/** A report-only row (no goal): `met` is true because there is nothing to miss. */
export function reportOnly(
  name: string,
  value: number,
  unit: string,
  note?: string,
  baseline = 'none',
): Row {
  return {
    name,
    value: round(value),
    unit,
    baseline,
    baseline_value: null,
    ratio: null,
    goal: REPORT_ONLY,
    met: true,
    ...(note !== undefined ? { note } : {}),
  };
}

/** A row compared with a baseline measured in the same run. */
export function compared(options: {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  goal: string;
  /** Defaults to value / baselineValue. */
  ratio?: number;
  met: (ratio: number) => boolean;
  note?: string;
}): Row {
  const ratio = options.ratio ?? options.value / options.baselineValue;
  return {
    name: options.name,
    value: round(options.value),
    unit: options.unit,
    baseline: options.baseline,
    baseline_value: round(options.baselineValue),
    ratio: round(ratio),
    goal: options.goal,
    met: Number.isFinite(ratio) && options.met(ratio),
    ...(options.note !== undefined ? { note: options.note } : {}),
  };
}

/** A row for a figure that could not be measured (e.g. its code is missing): never met. */
export function notMeasured(name: string, unit: string, goal: string, why: string): Row {
  return {
    name,
    value: Number.NaN,
    unit,
    baseline: 'n/a',
    baseline_value: null,
    ratio: null,
    goal,
    met: false,
    note: `NOT MEASURED: ${why.replace(/\s+/g, ' ').slice(0, 300)}`,
  };
}

/**
 * Runs one group of figures; if it throws, its figures are reported as not measured (never met)
 * and the benchmark goes on with the others.
 */
export async function guarded(
  group: string,
  figures: readonly string[],
  run: () => Promise<Row[]>,
): Promise<Row[]> {
  try {
    return await run();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    progress(`${group} failed: ${error instanceof Error ? error.stack : why}`);
    return figures.map((figure) => notMeasured(figure, '', 'see issue #5', why));
  }
}

export function toJson(rows: readonly Row[]): BenchReport {
  return {
    machine: machine(),
    results: rows.map((row) => ({
      name: row.name,
      // JSON has no NaN: an unmeasured value is reported as 0 with met=false and its reason logged.
      value: Number.isFinite(row.value) ? row.value : 0,
      unit: row.unit,
      baseline: row.baseline,
      baseline_value: row.baseline_value,
      ratio: row.ratio,
      goal: row.goal,
      met: row.met,
    })),
  };
}

/** Writes the JSON; `extra` adds top-level sections beside `results` (the cost model). */
export function writeReport(
  path: string,
  rows: readonly Row[],
  extra: Record<string, unknown> = {},
): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...toJson(rows), ...extra }, null, 2)}\n`);
}

const fmt = (x: number | null): string => {
  if (x === null) return '-';
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(1);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toFixed(3);
};

/** A Markdown table (readable in a terminal and pasteable into the README). */
export function formatTable(rows: readonly Row[]): string {
  const header = ['figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'met', 'notes'];
  const lines = rows.map((row) => [
    row.name,
    `${fmt(row.value)} ${row.unit}`,
    row.baseline_value === null ? row.baseline : `${fmt(row.baseline_value)} (${row.baseline})`,
    fmt(row.ratio),
    row.goal,
    row.goal === REPORT_ONLY ? '' : row.met ? 'yes' : 'NO',
    row.note ?? '',
  ]);
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((line) => (line[i] ?? '').length)));
  const render = (line: string[]) =>
    `| ${line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    render(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(render),
  ].join('\n');
}

/** Progress on stderr, so stdout stays the table. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A `progress` callback for measurement loops that prints at 25% steps. */
export function quarterly(label: string): (fraction: number) => void {
  let next = 0.25;
  return (fraction) => {
    if (fraction >= next) {
      progress(`  ${label}: ${Math.round(fraction * 100)}%`);
      while (next <= fraction) next += 0.25;
    }
  };
}
