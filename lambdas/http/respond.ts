/** Response shapes for the route entry files beyond lambdas/platform/http.ts. */
import type { HttpResult } from '../platform/http';

/** A JSON response whose body is already serialised (cached tweet JSON is served as stored). */
export function jsonText(statusCode: number, body: string): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body };
}
