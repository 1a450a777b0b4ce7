/**
 * Import first in media tests that need the local services: puts the local stack's handler
 * environment into process.env before clients.ts reads it at load.
 */
import { applyServiceEnv } from '../support/env';

applyServiceEnv();
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
// Handlers called in-process here would print their EMF lines into the test output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
