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
export function logInvocation(context: Context | undefined, correlationId?: string): void {
  logger.resetKeys();
  if (context !== undefined) logger.addContext(context);
  if (correlationId !== undefined) logger.setCorrelationId(correlationId);
}
