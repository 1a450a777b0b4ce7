/**
 * DynamoDB stream of the tweets table -> home timelines in Redis (lambdas/domain/fanout.ts).
 */
import { createFanoutHandler } from '../domain/fanout';
import { productionDeps } from '../domain/production-deps';

export const handler = createFanoutHandler(productionDeps());
