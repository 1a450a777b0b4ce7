/** Payload-format-2.0 events as API Gateway's HTTP API builds them (no Jest globals here). */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

export interface EventOptions {
  readonly user?: string | null;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** A raw body string (sent as is), e.g. malformed JSON. */
  readonly rawBody?: string;
  readonly base64Body?: Buffer;
  readonly headers?: Record<string, string>;
}

/** A payload-format-2.0 event as API Gateway's HTTP API builds it after its JWT authorizer. */
export function httpEvent(
  routeKey: string,
  options: EventOptions = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method = 'GET', routePath = '/'] = routeKey.split(' ');
  const params = options.pathParameters ?? {};
  const rawPath = routePath.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(params[name] ?? ''),
  );
  const query = options.query ?? {};
  const rawQueryString = new URLSearchParams(query).toString();
  let body: string | undefined;
  let isBase64Encoded = false;
  if (options.base64Body !== undefined) {
    body = options.base64Body.toString('base64');
    isBase64Encoded = true;
  } else if (options.rawBody !== undefined) {
    body = options.rawBody;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
  };
  const user = options.user === undefined ? 'anonymous' : options.user;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'jest',
      },
      requestId: randomBytes(8).toString('hex'),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: {
          claims: user === null ? {} : { sub: user, iss: 'https://auth.chirp.local/' },
          scopes: [],
        },
      },
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded,
  };
}
