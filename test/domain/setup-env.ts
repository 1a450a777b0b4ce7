/**
 * Import first in every test/domain file: puts the local stack's handler environment into
 * process.env before any handler or client module reads it at load.
 */
import { applyServiceEnv } from '../support/env';

applyServiceEnv();
process.env.CDN_BASE_URL ??= 'https://cdn.chirp.test';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
