import { Logger } from '@aws-lambda-powertools/logger';

/** One Logger per process; the service name comes from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();
