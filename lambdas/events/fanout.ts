/**
 * DynamoDB stream of the tweets table -> home timelines in Redis (lambdas/core/timelines/fanout.ts).
 */
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { createFanoutHandler } from '../core/timelines/fanout';
import { FANOUT_FUNCTION } from '../../app/model';
import { functionDeps } from '../wiring';
import { logInvocation } from '../platform/logger';
import { publishMetrics } from '../platform/metrics';

const fanout = createFanoutHandler(functionDeps(FANOUT_FUNCTION.id));

export async function handler(event: DynamoDBStreamEvent, context?: Context) {
  logInvocation(context);
  try {
    return await fanout(event);
  } finally {
    publishMetrics();
  }
}
