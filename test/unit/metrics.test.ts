/**
 * Metrics publish as CloudWatch EMF lines on stdout; the counters every read adds are summed in
 * the process and published at most once a second (lambdas/platform/metrics.ts).
 */
import { METRICS } from '../../app/model';
import { countMetric, publishMetrics } from '../../lambdas/platform/metrics';
import { jsonLinesOf } from './stdout-lines';

/** The values of `name` in the EMF lines written while `run` runs. */
async function published(name: string, run: () => void): Promise<number[]> {
  return (await jsonLinesOf(run))
    .filter((line) => '_aws' in line)
    .map((line) => line[name])
    .filter((value): value is number => typeof value === 'number');
}

describe('application metrics', () => {
  const { cacheHit, rateLimited } = METRICS.names;

  it("sums a read's per-request counters across invocations and publishes them once a second, losing none", async () => {
    const start = Date.now() + 10_000;
    const first = await published(cacheHit, () => {
      countMetric(cacheHit, 3);
      publishMetrics(start);
    });
    expect(first).toEqual([3]);
    // Within the second: summed, not published; a counter an alarm watches still goes out at once.
    const within = await published(cacheHit, () => {
      countMetric(cacheHit);
      publishMetrics(start + 10);
      countMetric(cacheHit, 20);
      publishMetrics(start + 500);
    });
    expect(within).toEqual([]);
    expect(
      await published(rateLimited, () => {
        countMetric(rateLimited);
        publishMetrics(start + 600);
      }),
    ).toEqual([1]);
    expect(await published(cacheHit, () => publishMetrics(start + 1000))).toEqual([21]);
    expect(await published(cacheHit, () => publishMetrics(start + 5000))).toEqual([]);
  });
});
