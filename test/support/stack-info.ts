/**
 * The process.env names through which the global setup hands the local stack to test workers.
 * (Jest copies the parent's process.env into every worker.)
 */
export const STACK_ENV = {
  /** Base URL of the HTTP API emulator, e.g. http://127.0.0.1:41234 */
  apiUrl: 'CHIRP_API_URL',
  /** Base URL of the CDN endpoint (same as CDN_BASE_URL). */
  cdnUrl: 'CHIRP_CDN_URL',
  /** The web app (web/dist) served by the stack. */
  appUrl: 'CHIRP_APP_URL',
  /** Fault-injection endpoint of the stack (see local/control.ts). */
  controlUrl: 'CHIRP_CONTROL_URL',
  /** Data dir holding the JWT signing key (jwt/signing-key.json). */
  keyDir: 'CHIRP_KEY_DIR',
  /** JSON of the handler environment the stack runs with. */
  serviceEnv: 'CHIRP_SERVICE_ENV',
  stackPid: 'CHIRP_STACK_PID',
  redisPid: 'CHIRP_REDIS_PID',
  redisPort: 'CHIRP_REDIS_PORT',
  /** Where the stack's output (including handler logs) goes. */
  logFile: 'CHIRP_STACK_LOG',
} as const;
