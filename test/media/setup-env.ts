/**
 * Import first in media tests that need the local services: puts the local stack's handler
 * environment into process.env before clients.ts reads it at load.
 */
import { applyServiceEnv } from '../support/env';

applyServiceEnv();
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
