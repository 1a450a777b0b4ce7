/**
 * Import right after setup-env, before any handler: budgets small enough for a test to spend, read
 * by the handlers at load exactly as a deployment's RATE_LIMITS would be.
 */
import { ENV } from '../../app/model';

process.env[ENV.rateLimits] = 'read=5/60,write=3/60,media_init=4/3600';
