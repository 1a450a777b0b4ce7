/**
 * Application metrics (app/model.ts METRICS) through Powertools Metrics: CloudWatch embedded metric
 * format, one JSON log line per invocation and no API call. The `service` dimension is the
 * Powertools service name (the function's id on AWS).
 *
 * Metrics are buffered and published once per invocation (publishMetrics, called by the HTTP edge
 * and the event entries) as a log line; the local stack reads the same lines and sums them at
 * /_local/metrics. The counters a read adds on every request (cache hits and misses, celebrity
 * merges) are summed in the process instead and published at most once a second, by the
 * invocation that ends after it or a timer: one EMF line per request cost a cached read more
 * than its cache GET (bench/README.md, issue #15). A process that is shut down loses at most
 * its last second of those counts; nothing an alarm watches is summed.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../app/model';

export type MetricName = (typeof METRICS.names)[keyof typeof METRICS.names];

const metrics = new Metrics({ namespace: METRICS.namespace });

/** Counters summed across invocations (see above), and how often they are published. */
const SUMMED: ReadonlySet<MetricName> = new Set([
  METRICS.names.cacheHit,
  METRICS.names.cacheMiss,
  METRICS.names.celebrityMerges,
]);
const SUMMED_PUBLISH_MS = 1000;
const sums = new Map<MetricName, number>();
let sumsPublishedAt = 0;
let sumsTimer: ReturnType<typeof setTimeout> | undefined;

/** Counts `value` of a metric in this invocation. */
export function countMetric(name: MetricName, value = 1): void {
  if (value <= 0) return;
  if (SUMMED.has(name)) sums.set(name, (sums.get(name) ?? 0) + value);
  else metrics.addMetric(name, MetricUnit.Count, value);
}

/** Moves the sums into this invocation's metrics when a second has passed, else sets a timer. */
function takeSums(now: number): void {
  if (sums.size === 0) return;
  if (now - sumsPublishedAt < SUMMED_PUBLISH_MS) {
    // Unref'd: a process with nothing else to do exits; Lambda runs it when it thaws the process.
    sumsTimer ??= setTimeout(
      () => {
        sumsTimer = undefined;
        publishMetrics();
      },
      SUMMED_PUBLISH_MS - (now - sumsPublishedAt),
    ).unref();
    return;
  }
  for (const [name, value] of sums) metrics.addMetric(name, MetricUnit.Count, value);
  sums.clear();
  sumsPublishedAt = now;
}

/** A metric with its own dimensions (e.g. media kind), published at once as its own line. */
export function emitMetric(
  name: MetricName,
  value: number,
  unit: 'Count' | 'Milliseconds',
  dimensions: Readonly<Record<string, string>>,
): void {
  const single = new Metrics({ namespace: METRICS.namespace });
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, value);
  publish(single);
}

/** Publishes what this invocation counted, if anything. */
export function publishMetrics(now: number = Date.now()): void {
  takeSums(now);
  publish(metrics);
}

function publish(target: Metrics): void {
  if (!target.hasStoredMetrics()) return;
  target.publishStoredMetrics();
}
