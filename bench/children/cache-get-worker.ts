/**
 * The worker thread of http_worker_hop_rps's server (bench/figures/stack.ts): one GET per request
 * on a client built by createCacheClient, with the local runtime's batching (one message per tick
 * each way, local/tick-batch.ts) and nothing else of a function's execution environment.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createCacheClient } from '../../lambdas/platform/clients';
import { TickBatch } from '../../local/tick-batch';

export interface CacheGetRequest {
  readonly id: number;
  readonly key: string;
}
export interface CacheGetReply {
  readonly id: number;
  readonly value: string | null;
  readonly failed: boolean;
}

const redis = createCacheClient((workerData as { redisUrl: string }).redisUrl, {
  commandTimeoutMs: 1000,
});
const replies = new TickBatch<CacheGetReply>((batch) => parentPort?.postMessage(batch));

parentPort?.on('message', (batch: readonly CacheGetRequest[]) => {
  for (const { id, key } of batch) {
    redis.get(key).then(
      (value) => replies.push({ id, value, failed: false }),
      () => replies.push({ id, value: null, failed: true }),
    );
  }
});
