/**
 * Application metrics (app/model.ts METRICS) through Powertools Metrics: CloudWatch embedded metric
 * format, one JSON log line per invocation and no API call. The `service` dimension is the
 * Powertools service name (the function's id on AWS).
 *
 * Metrics are buffered and published once per invocation (publishMetrics, called by the HTTP edge
 * and the event entries) as a log line; the local stack reads the same lines and sums them at
 * /_local/metrics.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../app/model';

export type MetricName = (typeof METRICS.names)[keyof typeof METRICS.names];

const metrics = new Metrics({ namespace: METRICS.namespace });

/** Counts `value` of a metric in this invocation. */
export function countMetric(name: MetricName, value = 1): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
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
export function publishMetrics(): void {
  publish(metrics);
}

function publish(target: Metrics): void {
  if (!target.hasStoredMetrics()) return;
  target.publishStoredMetrics();
}
