/**
 * CORS as the AWS pieces answer it, for the local emulators: which origins a configuration
 * allows, API Gateway HTTP API's corsPreflight behaviour, and the bucket's CORS rule as S3 XML.
 * The rules themselves (headers, methods, max age) come from the app model; only the origins are
 * local configuration.
 */
import { API_CORS, UPLOAD_CORS } from '../app/model';

/**
 * Origins a fresh `npm start` allows: any dev server on this machine (Vite, webpack, a static
 * server), whatever its port. CORS_ORIGINS (comma-separated) replaces them.
 */
export const DEFAULT_LOCAL_CORS_ORIGINS: readonly string[] = [
  'http://localhost:*',
  'http://127.0.0.1:*',
];

/** CORS_ORIGINS, else the local default; an empty CORS_ORIGINS ("") allows no origin, as on AWS. */
export function localCorsOrigins(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const raw = env.CORS_ORIGINS;
  if (raw === undefined) return DEFAULT_LOCAL_CORS_ORIGINS;
  return raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/**
 * An allowed-origin pattern: exact, `*` (any), or with `*` wildcards (API Gateway accepts
 * `https://*` and `http://*`, S3 one `*` anywhere; `http://localhost:*` is the local default).
 */
function originPattern(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

export interface OriginMatcher {
  /** The Access-Control-Allow-Origin value for this request origin, or undefined when not allowed. */
  allowOrigin(origin: string | undefined): string | undefined;
  readonly enabled: boolean;
}

export function originMatcher(allowed: readonly string[]): OriginMatcher {
  const any = allowed.includes('*');
  const patterns = allowed.map(originPattern);
  return {
    enabled: allowed.length > 0,
    allowOrigin(origin) {
      if (origin === undefined || origin === '') return undefined;
      if (any) return '*';
      return patterns.some((pattern) => pattern.test(origin)) ? origin : undefined;
    },
  };
}

const list = (values: readonly string[]) => values.join(',');

/**
 * API Gateway HTTP API with corsPreflight (docs: "Configuring CORS for an HTTP API"):
 * - a preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the gateway
 *   itself, before routing and the authorizer: 204, with the CORS headers when the origin is
 *   allowed and none otherwise;
 * - every other response to a request with an allowed Origin (the handler's, and the gateway's own
 *   401/404/413/500) gets Access-Control-Allow-Origin and the exposed headers; CORS headers a
 *   handler returns are dropped ("API Gateway ignores CORS headers returned from your backend").
 * Without a configuration (no origins), nothing of this happens: OPTIONS is a route miss (404).
 */
export class ApiGatewayCors {
  private readonly origins: OriginMatcher;

  constructor(allowedOrigins: readonly string[]) {
    this.origins = originMatcher(allowedOrigins);
  }

  get enabled(): boolean {
    return this.origins.enabled;
  }

  isPreflight(method: string, headers: NodeJS.Dict<string | string[]>): boolean {
    return (
      this.enabled &&
      method === 'OPTIONS' &&
      headers.origin !== undefined &&
      headers['access-control-request-method'] !== undefined
    );
  }

  /** Headers of the 204 the gateway answers a preflight with. */
  preflightHeaders(origin: string | undefined): Record<string, string> {
    const allowOrigin = this.origins.allowOrigin(origin);
    if (allowOrigin === undefined) return {};
    return {
      'access-control-allow-origin': allowOrigin,
      'access-control-allow-methods': list(API_CORS.allowMethods),
      'access-control-allow-headers': list(API_CORS.allowHeaders),
      'access-control-max-age': String(API_CORS.maxAgeSeconds),
    };
  }

  /** The response headers with the handler's CORS headers replaced by the gateway's. */
  applyTo(headers: Record<string, string>, origin: string | undefined): Record<string, string> {
    if (!this.enabled) return headers;
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith('access-control-')) result[name] = value;
    }
    const allowOrigin = this.origins.allowOrigin(origin);
    if (allowOrigin === undefined) return result;
    result['access-control-allow-origin'] = allowOrigin;
    if (API_CORS.exposeHeaders.length > 0) {
      result['access-control-expose-headers'] = list(API_CORS.exposeHeaders);
    }
    if (allowOrigin !== '*') result.vary = result.vary ? `${result.vary}, Origin` : 'Origin';
    return result;
  }
}

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The media bucket's CORS configuration (the rule lib/constructs/media-storage.ts sets), as S3 XML. */
export function bucketCorsXml(allowedOrigins: readonly string[]): string | undefined {
  if (allowedOrigins.length === 0) return undefined;
  const element = (name: string, values: readonly string[]) =>
    values.map((value) => `    <${name}>${xmlEscape(value)}</${name}>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    '  <CORSRule>',
    ...element('AllowedOrigin', allowedOrigins),
    ...element('AllowedMethod', UPLOAD_CORS.allowedMethods),
    ...element('AllowedHeader', UPLOAD_CORS.allowedHeaders),
    ...element('ExposeHeader', UPLOAD_CORS.exposedHeaders),
    `    <MaxAgeSeconds>${UPLOAD_CORS.maxAgeSeconds}</MaxAgeSeconds>`,
    '  </CORSRule>',
    '</CORSConfiguration>',
  ].join('\n');
}
