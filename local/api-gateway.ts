/**
 * The HTTP API (API Gateway v2) locally: routes from the app model, the JWT authorizer, payload
 * format 2.0 events built as API Gateway builds them, the handlers invoked in this process, and
 * their results turned into HTTP responses by the payload 2.0 rules. API Gateway's own answers
 * (401, 404, 413, 500) carry its bodies, e.g. {"message":"Unauthorized"}.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteSpec } from '../app/model';
import type { AuthorizedCaller, JwtAuthorizer } from './jwt-authorizer';
import { LocalFunction } from './lambda-runtime';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { Log } from './log';

/** HTTP API's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_API_ID = 'local';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly routeKey: string;
  readonly segments: readonly string[];
  /** Literal routes win over routes with parameters, as in API Gateway. */
  readonly parameterCount: number;
  readonly fn: LocalFunction<HttpEvent, APIGatewayProxyResultV2>;
}

export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly pathParameters: Record<string, string> | undefined;
}

function compile(spec: RouteSpec, region: string): CompiledRoute {
  const segments = spec.path.split('/').slice(1);
  return {
    spec,
    routeKey: `${spec.method} ${spec.path}`,
    segments,
    parameterCount: segments.filter((s) => /^\{.+\}$/.test(s)).length,
    fn: new LocalFunction(spec, region),
  };
}

/** The route table API Gateway builds from the app model's routes. */
export const compileRoutes = (specs: readonly RouteSpec[], region: string): CompiledRoute[] =>
  specs.map((spec) => compile(spec, region));

/** Finds the route for a method and raw (still percent-encoded) path; parameters are decoded. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): RouteMatch | undefined {
  const segments = rawPath.split('/').slice(1);
  const candidates = routes
    .filter((r) => r.spec.method === method && r.segments.length === segments.length)
    .sort((a, b) => a.parameterCount - b.parameterCount);
  for (const route of candidates) {
    const parameters: Record<string, string> = {};
    const matches = route.segments.every((pattern, i) => {
      const segment = segments[i] ?? '';
      const name = /^\{(.+)\}$/.exec(pattern)?.[1];
      if (name === undefined) return pattern === segment;
      if (segment === '') return false;
      try {
        parameters[name] = decodeURIComponent(segment);
      } catch {
        parameters[name] = segment;
      }
      return true;
    });
    if (matches) {
      return {
        route,
        pathParameters: route.parameterCount > 0 ? parameters : undefined,
      };
    }
  }
  return undefined;
}

/** Lower-cased names; repeated headers comma-joined; cookies go to their own field. */
function collectHeaders(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  cookies: string[] | undefined;
} {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter((c) => c !== ''),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies: cookies.length > 0 ? cookies : undefined };
}

/** Repeated keys comma-joined, values decoded; undefined when there is no query string. */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    parameters[key] = key in parameters ? `${parameters[key]},${value}` : value;
  }
  return parameters;
}

const TEXT_CONTENT_TYPE =
  /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded)\b)/i;

/**
 * API Gateway passes text bodies as strings and base64-encodes everything else. A "text" body
 * that is not valid UTF-8 is passed base64-encoded too, so the handler sees the exact bytes.
 */
function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (contentType !== undefined && TEXT_CONTENT_TYPE.test(contentType)) {
    try {
      return {
        body: new TextDecoder('utf-8', { fatal: true }).decode(body),
        isBase64Encoded: false,
      };
    } catch {
      // fall through to base64
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's requestContext.time format: 25/Nov/2026:15:04:05 +0000 */
function requestTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

export interface EventInput {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly httpVersion: string;
  readonly routeKey: string;
  readonly pathParameters: Record<string, string> | undefined;
  readonly caller: AuthorizedCaller;
  readonly requestId: string;
  readonly now: Date;
  /** The port the client connected to. @default 443, as on API Gateway */
  readonly serverPort?: number;
}

/** X-Ray trace header, as API Gateway adds it: Root=1-{epoch hex}-{96-bit hex}. */
const traceId = (now: Date): string =>
  `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

/** The payload format 2.0 event, field for field as API Gateway sends it. */
export function buildEvent(input: EventInput): HttpEvent {
  const { headers, cookies } = collectHeaders(input.rawHeaders);
  // Headers API Gateway adds on the way in.
  headers['x-amzn-trace-id'] = traceId(input.now);
  headers['x-forwarded-for'] =
    headers['x-forwarded-for'] !== undefined
      ? `${headers['x-forwarded-for']}, ${input.sourceIp}`
      : input.sourceIp;
  headers['x-forwarded-port'] = String(input.serverPort ?? 443);
  headers['x-forwarded-proto'] = 'http';
  const queryStringParameters = queryParameters(input.rawQueryString);
  const domainName = headers.host ?? 'localhost';
  const event = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.rawPath,
    rawQueryString: input.rawQueryString,
    ...(cookies !== undefined ? { cookies } : {}),
    headers,
    ...(queryStringParameters !== undefined ? { queryStringParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      authorizer: { jwt: { claims: input.caller.claims, scopes: input.caller.scopes } },
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: input.method,
        path: input.rawPath,
        protocol: `HTTP/${input.httpVersion}`,
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey: input.routeKey,
      stage: '$default',
      time: requestTime(input.now),
      timeEpoch: input.now.getTime(),
    },
    ...(input.pathParameters !== undefined ? { pathParameters: input.pathParameters } : {}),
    ...encodeBody(input.body, headers['content-type']),
  };
  // API Gateway sends no principalId/integrationLatency for JWT authorizers, though the type has them.
  return event as unknown as HttpEvent;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  readonly body: Buffer;
}

const jsonMessage = (statusCode: number, message: string): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  cookies: [],
  body: Buffer.from(JSON.stringify({ message })),
});

export const INTERNAL_SERVER_ERROR = jsonMessage(500, 'Internal Server Error');

/**
 * Payload 2.0 response rules: a result with a statusCode is used as given (headers, cookies,
 * body, isBase64Encoded); any other JSON value is a 200 with that JSON as the body. A malformed
 * result is API Gateway's 500.
 */
export function shapeResponse(result: APIGatewayProxyResultV2 | undefined | null): HttpResponse {
  if (result === undefined || result === null) return INTERNAL_SERVER_ERROR;
  if (typeof result === 'object' && 'statusCode' in result && result.statusCode !== undefined) {
    const { statusCode } = result;
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      return INTERNAL_SERVER_ERROR;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    const body =
      result.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8');
    return { statusCode, headers, cookies: [...(result.cookies ?? [])], body };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(typeof result === 'string' ? result : JSON.stringify(result)),
  };
}

/** API Gateway request ids look like `Jk3Z5gQJIAMEbXA=`. */
const newRequestId = () => randomBytes(10).toString('base64');

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, result: HttpResponse, requestId: string): void {
  const headers: Record<string, string | string[]> = {
    ...result.headers,
    'apigw-requestid': requestId,
    'content-length': String(result.body.length),
  };
  if (result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  response.writeHead(result.statusCode, headers);
  response.end(result.body);
}

export interface ApiGatewayOptions {
  readonly port: number;
  readonly routes: readonly RouteSpec[];
  readonly authorizer: JwtAuthorizer;
  readonly region: string;
  readonly log: Log;
}

export async function startApiGateway(options: ApiGatewayOptions): Promise<LocalHttpServer> {
  const routes = compileRoutes(options.routes, options.region);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = newRequestId();
    const now = new Date();
    const url = request.url ?? '/';
    const queryIndex = url.indexOf('?');
    const rawPath = queryIndex === -1 ? url : url.slice(0, queryIndex);
    const rawQueryString = queryIndex === -1 ? '' : url.slice(queryIndex + 1);
    const method = request.method ?? 'GET';

    let body: Buffer;
    try {
      body = await readBody(request, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(response, jsonMessage(413, 'Request Entity Too Large'), requestId);
        request.resume();
        return;
      }
      throw error;
    }

    const match = matchRoute(routes, method, rawPath);
    if (match === undefined) {
      send(response, jsonMessage(404, 'Not Found'), requestId);
      return;
    }
    const caller = await options.authorizer(request.headers.authorization);
    if (caller === undefined) {
      send(response, jsonMessage(401, 'Unauthorized'), requestId);
      return;
    }
    const event = buildEvent({
      method,
      rawPath,
      rawQueryString,
      rawHeaders: request.rawHeaders,
      body,
      sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      httpVersion: request.httpVersion,
      routeKey: match.route.routeKey,
      pathParameters: match.pathParameters,
      caller,
      requestId,
      now,
      serverPort: request.socket.localPort ?? 0,
    });
    let result: HttpResponse;
    try {
      result = shapeResponse(await match.route.fn.invoke(event));
    } catch (error) {
      options.log(
        `${match.route.routeKey} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      result = INTERNAL_SERVER_ERROR;
    }
    send(response, result, requestId);
  };

  return serveHttp(options.port, handle, (error, response) => {
    options.log(`api: ${String(error)}`);
    if (!response.headersSent) send(response, INTERNAL_SERVER_ERROR, newRequestId());
    else response.end();
  });
}
