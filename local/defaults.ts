/** Defaults of the local stack that its commands (start, token, demo) share. */
import { ENV } from '../app/model';

/** Where `npm start` keeps its data and the token signing key (CHIRP_DATA_DIR overrides). */
export const DEFAULT_DATA_DIR = '.local-data';
/** API_PORT overrides. */
export const DEFAULT_API_PORT = 3000;
/** CDN_PORT overrides. */
export const DEFAULT_CDN_PORT = 3001;
/** DOCS_PORT overrides: the rendered API reference (openapi.yaml). */
export const DEFAULT_DOCS_PORT = 3002;

/**
 * Handler environment for load drivers (soak, bench, the test stack), which exercise the system and
 * not its per-user limits: budgets no driver reaches (a soak user makes hundreds of requests a
 * minute).
 */
export const LOAD_DRIVER_ENV: Readonly<Record<string, string>> = {
  [ENV.rateLimits]: 'read=1000000/1,write=1000000/1,media_init=1000000/1',
  [ENV.pendingUploadsMax]: '1000000',
  [ENV.uploadBytesPerDay]: String(2 ** 50),
  // The fanout as fast as the local cache answers (it has no ECPU ceiling to pace for).
  [ENV.fanoutDeliveriesPerSecond]: '0',
};

/** APP_PORT overrides: the web app (web/dist). */
export const DEFAULT_APP_PORT = 3003;
