/**
 * Import first in every test/domain file: puts the local stack's handler environment into
 * process.env before any handler or client module reads it at load.
 */
import { applyServiceEnv } from '../support/env';

applyServiceEnv();
process.env.CDN_BASE_URL ??= 'https://cdn.chirp.test';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
// Handlers called in-process here would print their EMF lines into the test output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
