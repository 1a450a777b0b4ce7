/**
 * DynamoDB stream of the tweets table -> home timelines in Redis (lambdas/domain/fanout.ts).
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createFanoutHandler } from '../domain/fanout';
import { productionDeps } from '../domain/production-deps';
import { publishMetrics } from '../shared/metrics';

const fanout = createFanoutHandler(productionDeps());

export async function handler(event: DynamoDBStreamEvent) {
  try {
    return await fanout(event);
  } finally {
    publishMetrics();
  }
}
