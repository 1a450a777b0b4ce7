import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** One Logger per process; the service name comes from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();

/**
 * Starts an invocation's logging: every line it logs carries the Lambda context (function name,
 * memory, request id, cold start) and, when the event has one, the API's request id as
 * `correlation_id`, so one request's lines can be found together. Keys of the previous
 * invocation are dropped first (a warm function serves many).
 */
export function logInvocation(context: Partial<Context> | undefined, correlationId?: string): void {
  logger.resetKeys();
  // Lambda always passes the whole context; tests and local tools may pass a part of it.
  if (context?.awsRequestId !== undefined) logger.addContext(context as Context);
  if (correlationId !== undefined) logger.setCorrelationId(correlationId);
}
