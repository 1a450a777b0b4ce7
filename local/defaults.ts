/** Defaults of the local stack that its commands (start, token, demo) share. */

/** Where `npm start` keeps its data and the token signing key (CHIRP_DATA_DIR overrides). */
export const DEFAULT_DATA_DIR = '.local-data';
/** API_PORT overrides. */
export const DEFAULT_API_PORT = 3000;
/** CDN_PORT overrides. */
export const DEFAULT_CDN_PORT = 3001;
/** DOCS_PORT overrides: the rendered API reference (openapi.yaml). */
export const DEFAULT_DOCS_PORT = 3002;
/** APP_PORT overrides: the web app (web/dist). */
export const DEFAULT_APP_PORT = 3003;
