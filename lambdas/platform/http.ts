// Own code: maps Chirp's error codes to payload-2.0 responses; API Gateway routes, so no router library is needed (docs/own-code.md).
/**
 * The HTTP edge shared by every route handler: reading API Gateway payload-2.0 events, finding the
 * caller, and shaping JSON responses. Domain errors become 4xx with an error code; an unavailable
 * DynamoDB becomes 503 with Retry-After; anything else is logged and becomes a bare 500.
 */
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { USER_ID_PATTERN } from '../../app/model';
import { DomainError, ServiceUnavailableError, invalidRequest, unauthorized } from '../core/errors';
import { logger, logInvocation } from './logger';
import { publishMetrics } from './metrics';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

export function noContent(): HttpResult {
  return { statusCode: 204 };
}

export function errorResponse(status: number, code: string, message: string): HttpResult {
  return json(status, { error: { code, message } });
}

/** The caller is the verified token's `sub`; the authorizer (or its local emulator) checked it. */
export function callerId(event: HttpEvent): string {
  const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
  if (typeof sub !== 'string' || !USER_ID_PATTERN.test(sub)) throw unauthorized();
  return sub;
}

/** Parses a JSON object body. Anything that is not a JSON object is a 400. */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw invalidRequest('A JSON object body is required');
  }
  const contentType = headerValue(event, 'content-type');
  if (contentType !== undefined && !/^application\/(.+\+)?json(\s*;|$)/i.test(contentType)) {
    throw invalidRequest('Content-Type must be application/json');
  }
  let text: string;
  if (event.isBase64Encoded) {
    const bytes = Buffer.from(event.body, 'base64');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw invalidRequest('The body is not valid UTF-8');
    }
  } else {
    text = event.body;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest('The body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest('The body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Header lookup; API Gateway lower-cases names and comma-joins repeated headers. */
export function headerValue(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name.toLowerCase()] ?? undefined;
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw invalidRequest(`Missing path parameter ${name}`);
  return value;
}

export function queryParam(event: HttpEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}

/** Wraps a route: maps typed errors to responses so the handler body stays domain-only. */
export function httpHandler(
  route: (event: HttpEvent) => Promise<HttpResult>,
): (event: HttpEvent, context?: Context) => Promise<HttpResult> {
  return async (event, context) => {
    logInvocation(context, event.requestContext?.requestId);
    try {
      return await route(event);
    } catch (error) {
      if (error instanceof DomainError) {
        const response = errorResponse(error.status, error.code, error.message);
        if (error.retryAfterSeconds === undefined) return response;
        return {
          ...response,
          headers: { ...JSON_HEADERS, 'retry-after': String(error.retryAfterSeconds) },
        };
      }
      if (error instanceof ServiceUnavailableError || isDynamoUnavailable(error)) {
        logger.warn('dependency unavailable', { error: errorMessage(error) });
        const retryAfter = error instanceof ServiceUnavailableError ? error.retryAfterSeconds : 1;
        return {
          ...errorResponse(503, 'service_unavailable', 'Temporarily unavailable; retry shortly'),
          headers: { ...JSON_HEADERS, 'retry-after': String(retryAfter) },
        };
      }
      logger.error('unhandled error', { error });
      return errorResponse(500, 'internal_error', 'Internal error');
    } finally {
      publishMetrics();
    }
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Network failures, throttling and 5xx from DynamoDB: the request may be retried. */
export function isDynamoUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const code = (error as { code?: string }).code;
  return (
    (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) ||
    [
      'ProvisionedThroughputExceededException',
      'ThrottlingException',
      'RequestLimitExceeded',
      'InternalServerError',
      'ServiceUnavailable',
      'TimeoutError',
    ].includes(error.name) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(code ?? '')
  );
}
