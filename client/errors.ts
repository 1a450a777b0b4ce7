/** Errors of API calls, as thrown by the helpers. */
import type { components } from './schema';

type ApiError = components['schemas']['ApiError'];
type GatewayMessage = components['schemas']['GatewayMessage'];

/** A response the API answered with an error: its status and code (API Gateway's own have none). */
export class ChirpApiError extends Error {
  constructor(
    readonly status: number,
    /** The handler's error code; undefined for API Gateway's own `{"message"}` answers. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(`${status}${code !== undefined ? ` ${code}` : ''}: ${message}`);
    this.name = 'ChirpApiError';
  }

  static from(response: Response, body: unknown): ChirpApiError {
    const error = (body as Partial<ApiError> | undefined)?.error;
    const gateway = (body as Partial<GatewayMessage> | undefined)?.message;
    return new ChirpApiError(
      response.status,
      error?.code,
      error?.message ?? gateway ?? response.statusText,
    );
  }
}

/** The data of an openapi-fetch result, or a ChirpApiError for its error. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw ChirpApiError.from(result.response, result.error);
  }
  return result.data;
}
