/**
 * A small HTTP client for the soak run and the security tests, on node:http so every byte of the
 * request (body, Content-Type, Content-Length, raw path) is exactly what the caller says: fetch
 * would normalise some of it away.
 */
import { request as httpRequest, Agent } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** Milliseconds from sending to the end of the response. */
  readonly ms: number;
}

export interface RawRequest {
  readonly method: string;
  /** Base URL, e.g. http://127.0.0.1:3000 */
  readonly baseUrl: string;
  /** Raw path with query string, sent as is (no normalisation, no percent-decoding). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  /** @default 20000 */
  readonly timeoutMs?: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Sends one request; rejects only on a network error or timeout (an HTTP error status resolves). */
export function rawRequest(input: RawRequest): Promise<RawResponse> {
  return send(input, true);
}

function send(input: RawRequest, mayRetryStaleSocket: boolean): Promise<RawResponse> {
  const url = new URL(input.baseUrl);
  const body =
    input.body === undefined
      ? undefined
      : typeof input.body === 'string'
        ? Buffer.from(input.body, 'utf8')
        : input.body;
  const headers: Record<string, string> = { ...input.headers };
  if (
    body !== undefined &&
    !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')
  ) {
    headers['content-length'] = String(body.length);
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: input.method,
        path: input.path,
        headers,
        agent,
        timeout: input.timeoutMs ?? 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timed out after ${input.timeoutMs ?? 20_000} ms`)),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed while idle: the request never reached it, so sending
      // it again on a fresh socket is safe (the pattern Node's docs give for reusedSocket).
      if (mayRetryStaleSocket && req.reusedSocket && error.code === 'ECONNRESET') {
        send(input, false).then(resolve, reject);
        return;
      }
      reject(error);
    });
    req.end(body);
  });
}

/** Parses a JSON body; undefined when it is not JSON. */
export function jsonOf(response: RawResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The API's error code, when the body is `{"error":{"code":...}}`. */
export function errorCode(response: RawResponse): string | undefined {
  const body = jsonOf(response) as { error?: { code?: unknown } } | undefined;
  return typeof body?.error?.code === 'string' ? body.error.code : undefined;
}

/** A JSON API client bound to a base URL and a bearer token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  send(
    method: string,
    path: string,
    options: { json?: unknown; headers?: Record<string, string>; body?: Buffer | string } = {},
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      ...options.headers,
    };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    return rawRequest({
      method,
      baseUrl: this.baseUrl,
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
  }
}
