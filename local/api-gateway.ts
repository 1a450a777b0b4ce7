// Own code: SAM local and LocalStack need Docker, serverless-offline its own config; nothing else emulates HTTP API payload 2.0 in-process (docs/own-code.md).
/**
 * The HTTP API (API Gateway v2) locally: routes from the app model, the JWT authorizer, payload
 * format 2.0 events built as API Gateway builds them, the handlers invoked in this process, and
 * their results turned into HTTP responses by the payload 2.0 rules. API Gateway's own answers
 * (401, 404, 413, 500) carry its bodies, e.g. {"message":"Unauthorized"}. With a CORS
 * configuration, preflights are answered before routing and the authorizer (local/cors.ts).
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteSpec } from '../app/model';
import type { ApiGatewayCors } from './cors';
import type { AuthorizedCaller, JwtAuthorizer } from './jwt-authorizer';
import { LocalFunction } from './lambda-runtime';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { Log } from './log';
import { assertNoRouteConflicts } from './route-conflicts';

/** HTTP API's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_API_ID = 'local';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly routeKey: string;
  readonly segments: readonly string[];
  /** Per segment: the parameter's name, or undefined for a literal segment. */
  readonly parameterNames: readonly (string | undefined)[];
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
  const parameterNames = segments.map((s) => /^\{(.+)\}$/.exec(s)?.[1]);
  return {
    spec,
    routeKey: `${spec.method} ${spec.path}`,
    segments,
    parameterNames,
    parameterCount: parameterNames.filter((name) => name !== undefined).length,
    fn: new LocalFunction(spec, region),
  };
}

/**
 * The route table API Gateway builds from the app model's routes; routes AWS would refuse
 * (conflicting path variables) are refused here too, before any function starts.
 */
export function compileRoutes(specs: readonly RouteSpec[], region: string): CompiledRoute[] {
  assertNoRouteConflicts(specs);
  return specs.map((spec) => compile(spec, region));
}

/**
 * Candidates by method, then by segment count, literal routes first (a stable sort keeps the
 * model's order among equals). Built once per route table instead of filtering and sorting the
 * whole table on every request.
 */
type RouteIndex = ReadonlyMap<string, readonly (readonly CompiledRoute[] | undefined)[]>;
const routeIndexes = new WeakMap<readonly CompiledRoute[], RouteIndex>();

function routeIndex(routes: readonly CompiledRoute[]): RouteIndex {
  let index = routeIndexes.get(routes);
  if (index !== undefined) return index;
  const byMethod = new Map<string, CompiledRoute[][]>();
  for (const route of [...routes].sort((a, b) => a.parameterCount - b.parameterCount)) {
    let bySegments = byMethod.get(route.spec.method);
    if (bySegments === undefined) byMethod.set(route.spec.method, (bySegments = []));
    (bySegments[route.segments.length] ??= []).push(route);
  }
  index = byMethod;
  routeIndexes.set(routes, index);
  return index;
}

/** Binds the segments to the route's parameters, or undefined when a segment does not match. */
function bindParameters(
  route: CompiledRoute,
  segments: readonly string[],
): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = segments[i] ?? '';
    const name = route.parameterNames[i];
    if (name === undefined) {
      if (route.segments[i] !== segment) return undefined;
      continue;
    }
    if (segment === '') return undefined;
    try {
      parameters[name] = decodeURIComponent(segment);
    } catch {
      parameters[name] = segment;
    }
  }
  return parameters;
}

/** Finds the route for a method and raw (still percent-encoded) path; parameters are decoded. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): RouteMatch | undefined {
  const segments = rawPath.split('/').slice(1);
  const candidates = routeIndex(routes).get(method)?.[segments.length];
  if (candidates === undefined) return undefined;
  for (const route of candidates) {
    const parameters = bindParameters(route, segments);
    if (parameters !== undefined) {
      return { route, pathParameters: route.parameterCount > 0 ? parameters : undefined };
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
  let cookies: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      for (const cookie of value.split(';')) {
        const trimmed = cookie.trim();
        if (trimmed !== '') (cookies ??= []).push(trimmed);
      }
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
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

const utf8 = new TextDecoder('utf-8', { fatal: true });
const TEXT_CONTENT_TYPE =
  /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded)\b)/i;

/**
 * API Gateway passes text bodies as strings and base64-encodes everything else. A "text" body
 * that is not valid UTF-8 is passed base64-encoded too, so the handler sees the exact bytes.
 * An empty body is left out of the event (isBase64Encoded false).
 */
function setBody(event: Record<string, unknown>, body: Buffer, contentType: string | undefined) {
  if (body.length === 0) {
    event.isBase64Encoded = false;
    return;
  }
  if (contentType !== undefined && TEXT_CONTENT_TYPE.test(contentType)) {
    try {
      event.body = utf8.decode(body);
      event.isBase64Encoded = false;
      return;
    } catch {
      // fall through to base64
    }
  }
  event.body = body.toString('base64');
  event.isBase64Encoded = true;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const twoDigits = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** API Gateway's requestContext.time format: 25/Nov/2026:15:04:05 +0000 */
function formatRequestTime(date: Date): string {
  return (
    `${twoDigits(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:` +
    `${twoDigits(date.getUTCSeconds())} +0000`
  );
}

/** The time string only changes once a second, so the last one is reused within its second. */
let lastTimeSecond = Number.NaN;
let lastTime = '';

function requestTime(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastTimeSecond) {
    lastTime = formatRequestTime(date);
    lastTimeSecond = second;
  }
  return lastTime;
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

/**
 * Random bytes for request and trace ids, drawn from a pool refilled 16 KiB at a time: each
 * randomBytes() call costs ~10 us of fixed overhead here (measured), which the two ids per
 * request used to pay; a refill costs about the same and serves ~700 requests.
 */
const randomPool = Buffer.allocUnsafe(16 * 1024);
let randomPoolUsed = randomPool.length;

function randomString(bytes: number, encoding: 'hex' | 'base64'): string {
  if (randomPoolUsed + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolUsed = 0;
  }
  const start = randomPoolUsed;
  randomPoolUsed += bytes;
  return randomPool.toString(encoding, start, randomPoolUsed);
}

/** X-Ray trace header, as API Gateway adds it: Root=1-{epoch hex}-{96-bit hex}. */
const traceId = (now: Date): string =>
  `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomString(12, 'hex')}`;

/**
 * The payload format 2.0 event, field for field as API Gateway sends it (optional fields are
 * added in API Gateway's order only when present).
 */
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
  const firstDot = domainName.indexOf('.');
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.rawPath,
    rawQueryString: input.rawQueryString,
  };
  if (cookies !== undefined) event.cookies = cookies;
  event.headers = headers;
  if (queryStringParameters !== undefined) event.queryStringParameters = queryStringParameters;
  event.requestContext = {
    accountId: LOCAL_ACCOUNT_ID,
    apiId: LOCAL_API_ID,
    authorizer: { jwt: { claims: input.caller.claims, scopes: input.caller.scopes } },
    domainName,
    domainPrefix: firstDot === -1 ? domainName : domainName.slice(0, firstDot),
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
  };
  if (input.pathParameters !== undefined) event.pathParameters = input.pathParameters;
  setBody(event, input.body, headers['content-type']);
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
    const given = result.headers ?? {};
    for (const name of Object.keys(given)) headers[name.toLowerCase()] = String(given[name]);
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
const newRequestId = () => randomString(10, 'base64');

class BodyTooLarge extends Error {}

const NO_BODY = Buffer.alloc(0);

/**
 * An HTTP/1.1 request has a body only with Content-Length or Transfer-Encoding (RFC 9112 6.3);
 * without either (most GETs) there is nothing to buffer, and Node discards the empty stream.
 */
const hasBody = (request: IncomingMessage): boolean =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

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

function sendResponse(response: ServerResponse, result: HttpResponse, requestId: string): void {
  const headers: Record<string, string | string[]> = {
    ...result.headers,
    'apigw-requestid': requestId,
    'content-length': String(result.body.length),
  };
  if (result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  response.writeHead(result.statusCode, headers);
  // The same bytes as a latin1 string: Node then sends head and body in one write. With a Buffer
  // body the head goes as a chunk of its own; under autocannon that cost ~110 us of CPU per cached
  // GET instead of ~80 us (same process, interleaved runs).
  response.end(result.body.toString('latin1'), 'latin1');
}

/** The gateway's CORS headers on any response (the handler's or its own). */
const withCors = (
  result: HttpResponse,
  cors: ApiGatewayCors | undefined,
  origin: string | undefined,
): HttpResponse =>
  cors === undefined ? result : { ...result, headers: cors.applyTo(result.headers, origin) };

export interface ApiGatewayOptions {
  readonly port: number;
  readonly routes: readonly RouteSpec[];
  readonly authorizer: JwtAuthorizer;
  readonly region: string;
  readonly log: Log;
  /** The corsPreflight configuration; undefined or no origins: no CORS, as on AWS by default. */
  readonly cors?: ApiGatewayCors;
  /** GET pages of the local stack itself (no authorizer), e.g. /_local/metrics. */
  readonly localPages?: Readonly<Record<string, () => unknown>>;
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
    const cors = options.cors;
    const origin = request.headers.origin;
    if (cors?.isPreflight(method, request.headers) === true) {
      const headers = cors.preflightHeaders(origin);
      sendResponse(response, { statusCode: 204, headers, cookies: [], body: NO_BODY }, requestId);
      request.resume();
      return;
    }
    const send = (target: ServerResponse, result: HttpResponse, id: string) =>
      sendResponse(target, withCors(result, options.cors, origin), id);

    let body: Buffer = NO_BODY;
    try {
      if (hasBody(request)) body = await readBody(request, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(response, jsonMessage(413, 'Request Entity Too Large'), requestId);
        request.resume();
        return;
      }
      throw error;
    }

    const page = method === 'GET' ? options.localPages?.[rawPath] : undefined;
    if (page !== undefined) {
      const result: HttpResponse = {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        cookies: [],
        body: Buffer.from(JSON.stringify(page(), null, 2)),
      };
      send(response, result, requestId);
      return;
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
    if (!response.headersSent) {
      const result = withCors(INTERNAL_SERVER_ERROR, options.cors, response.req.headers.origin);
      sendResponse(response, result, newRequestId());
    } else response.end();
  });
}
