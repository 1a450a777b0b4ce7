/**
 * Typed domain errors. Domain code throws them; handlers map them to HTTP responses.
 * Anything else is a bug or an infrastructure failure and becomes a 5xx.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Sent as Retry-After (429s: when the caller's budget allows another request). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badRequest = (code: string, message: string) => new DomainError(400, code, message);
export const invalidRequest = (message: string) => badRequest('invalid_request', message);
export const unauthorized = (message = 'A valid bearer token is required') =>
  new DomainError(401, 'unauthorized', message);
export const notFound = (code: string, message: string) => new DomainError(404, code, message);
export const unprocessable = (code: string, message: string) => new DomainError(422, code, message);
export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number) =>
  new DomainError(429, code, message, Math.max(1, Math.ceil(retryAfterSeconds)));

/** A dependency (DynamoDB) is unavailable; the client should retry. Maps to 503 with Retry-After. */
export class ServiceUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}
