/**
 * The functions' application metrics are visible locally: the stack sums the EMF documents they
 * publish and serves them at GET /_local/metrics, so cache hits, fanout and limits show without AWS.
 */
import type { MetricsSnapshot } from '../../local/metrics-summary';
import { METRICS } from '../../app/model';
import { eventually, newUser } from '../support/api-client';
import { apiUrl } from '../support/env';

/** A page of the local stack, not of the API (so not checked against openapi.yaml). */
const snapshot = async () => {
  const response = await fetch(`${apiUrl()}/_local/metrics`);
  expect(response.status).toBe(200);
  return (await response.json()) as MetricsSnapshot;
};
const total = (s: MetricsSnapshot, name: string) => s.totals[name] ?? 0;

describe('GET /_local/metrics', () => {
  it('counts cache hits, fanout deliveries and idempotent replays as the functions emit them', async () => {
    const author = newUser('metrics-author');
    const reader = newUser('metrics-reader');
    expect((await reader.follow(author.id)).status).toBe(204);
    // The reader's home timeline exists, so the fanout delivers to it.
    expect((await reader.timeline()).status).toBe(200);
    const before = await snapshot();

    const idempotencyKey = `metrics-${author.id}`;
    const created = await author.createTweet({ text: 'counted' }, idempotencyKey);
    expect(created.status).toBe(201);
    const replayed = await author.createTweet({ text: 'counted' }, idempotencyKey);
    expect(replayed.body.tweet_id).toBe(created.body.tweet_id);
    // The first read may fill the cache; the next two are hits.
    for (let i = 0; i < 3; i++) {
      expect((await reader.getTweet(created.body.tweet_id)).status).toBe(200);
    }

    // Cache hits are summed in each function and published within a second.
    const after = await eventually('fanout delivery and cache hits counted', async () => {
      const current = await snapshot();
      const grew = (name: string, by: number) => total(current, name) - total(before, name) >= by;
      return grew(METRICS.names.fanoutDeliveries, 1) && grew(METRICS.names.cacheHit, 2)
        ? current
        : undefined;
    });
    expect(
      total(after, METRICS.names.cacheHit) - total(before, METRICS.names.cacheHit),
    ).toBeGreaterThanOrEqual(2);
    expect(
      total(after, METRICS.names.idempotentReplay) - total(before, METRICS.names.idempotentReplay),
    ).toBeGreaterThanOrEqual(1);
    expect(after.byService).toBeDefined();
    expect(after.cacheHitRatio).not.toBeNull();
  });
});
