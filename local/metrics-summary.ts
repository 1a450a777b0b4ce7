/**
 * The application metrics of the local stack's functions, summed since it started: the EMF
 * documents they log (lambdas/platform/metrics.ts), read from their log lines as CloudWatch reads
 * them. Served at
 * GET /_local/metrics on the API port and printed by `npm start` as one line when they change, so
 * a developer sees cache hit ratio, fanout deliveries and limits without AWS.
 */
import { METRICS } from '../app/model';
import { isEmfLine, onFunctionLog } from './lambda-runtime';

export interface MetricsSnapshot {
  /** Sum of each metric over every function (durations: sum of milliseconds). */
  readonly totals: Readonly<Record<string, number>>;
  /** Sum per function (`service` dimension) and metric. */
  readonly byService: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Cache hits / (hits + misses), or null before any lookup. */
  readonly cacheHitRatio: number | null;
}

interface EmfDocument {
  readonly _aws?: { readonly CloudWatchMetrics?: { readonly Metrics?: { Name: string }[] }[] };
  readonly [key: string]: unknown;
}

export class MetricsSummary {
  private readonly byService = new Map<string, Map<string, number>>();
  private readonly unsubscribe: () => void;
  private changes = 0;

  constructor() {
    this.unsubscribe = onFunctionLog((line) => {
      if (!isEmfLine(line)) return;
      try {
        this.add(JSON.parse(line) as EmfDocument);
      } catch {
        // not JSON after all: an ordinary log line
      }
    });
  }

  add(emf: EmfDocument): void {
    const service = typeof emf.service === 'string' ? emf.service : 'unknown';
    const sums = this.byService.get(service) ?? new Map<string, number>();
    this.byService.set(service, sums);
    for (const directive of emf._aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics ?? []) {
        const value = emf[Name];
        const values = Array.isArray(value) ? value : [value];
        const sum = values.reduce<number>((total, v) => total + (typeof v === 'number' ? v : 0), 0);
        sums.set(Name, (sums.get(Name) ?? 0) + sum);
      }
    }
    this.changes++;
  }

  /** Increases whenever a document was added (for printing only on change). */
  get version(): number {
    return this.changes;
  }

  snapshot(): MetricsSnapshot {
    const totals: Record<string, number> = {};
    const byService: Record<string, Record<string, number>> = {};
    for (const [service, sums] of this.byService) {
      byService[service] = Object.fromEntries(sums);
      for (const [name, sum] of sums) totals[name] = (totals[name] ?? 0) + sum;
    }
    const hits = totals[METRICS.names.cacheHit] ?? 0;
    const lookups = hits + (totals[METRICS.names.cacheMiss] ?? 0);
    return { totals, byService, cacheHitRatio: lookups === 0 ? null : hits / lookups };
  }

  /** One line: cache hit ratio, fanout, media, limits. */
  line(): string {
    const { totals, cacheHitRatio } = this.snapshot();
    const n = (name: string) => totals[name] ?? 0;
    const names = METRICS.names;
    const ratio = cacheHitRatio === null ? 'n/a' : `${(cacheHitRatio * 100).toFixed(1)}%`;
    return [
      `cache hits ${ratio} (${n(names.cacheHit)}/${n(names.cacheHit) + n(names.cacheMiss)})`,
      `fanout delivered ${n(names.fanoutDeliveries)}, skipped ${n(names.fanoutTimelinesSkipped)}`,
      `media ok ${n(names.mediaProcessed)}, failed ${n(names.mediaFailed)}`,
      `rate-limited ${n(names.rateLimited)}`,
      `replays ${n(names.idempotentReplay)}`,
    ].join(' | ');
  }

  stop(): void {
    this.unsubscribe();
  }
}
