/**
 * DynamoDB stream of the tweets table -> home timelines in Redis (lambdas/core/timelines/fanout.ts).
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createFanoutHandler } from '../core/timelines/fanout';
import { productionDeps } from '../wiring';
import { publishMetrics } from '../platform/metrics';

const fanout = createFanoutHandler(productionDeps());

export async function handler(event: DynamoDBStreamEvent) {
  try {
    return await fanout(event);
  } finally {
    publishMetrics();
  }
}
