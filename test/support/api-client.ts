/** A small HTTP client for end-to-end tests against the local stack's API emulator. */
import { randomBytes } from 'node:crypto';
import { apiUrl, mintToken } from './env';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: T;
  readonly text: string;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Sent as-is instead of JSON (e.g. malformed input). */
  readonly rawBody?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Overrides the Authorization header; null sends none. */
  readonly authorization?: string | null;
}

export async function request<T = unknown>(
  method: string,
  path: string,
  token: string | undefined,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const authorization =
    options.authorization !== undefined
      ? options.authorization
      : token !== undefined
        ? `Bearer ${token}`
        : null;
  if (authorization !== null) headers.authorization = authorization;
  let body: string | Buffer | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${apiUrl()}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** A user of the API: a unique id per test run and a token for it. */
export class TestUser {
  readonly token: string;

  constructor(readonly id: string) {
    this.token = mintToken(id);
  }

  get<T = unknown>(path: string, options?: RequestOptions) {
    return request<T>('GET', path, this.token, options);
  }
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions) {
    return request<T>('POST', path, this.token, { ...options, body });
  }
  put<T = unknown>(path: string, options?: RequestOptions) {
    return request<T>('PUT', path, this.token, options);
  }
  delete<T = unknown>(path: string, options?: RequestOptions) {
    return request<T>('DELETE', path, this.token, options);
  }
}

/** Users with ids unique to this run, so test files sharing the stack never collide. */
export function newUser(name: string): TestUser {
  return new TestUser(`${name}-${randomBytes(4).toString('hex')}`);
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Asserts an API error: its status, its `error.code`, and that it carries a message. */
export function expectError(
  response: { status: number; body: unknown },
  status: number,
  code: string,
) {
  expect({
    status: response.status,
    code: (response.body as ErrorBody | undefined)?.error?.code,
  }).toEqual({
    status,
    code,
  });
  expect(typeof (response.body as ErrorBody).error.message).toBe('string');
}

export interface MediaBody {
  readonly media_id: string;
  readonly status: 'pending_upload' | 'processing' | 'ready' | 'failed';
  readonly content_type: string;
  readonly size_bytes: number;
  readonly alt_text: string | null;
  readonly width?: number;
  readonly height?: number;
  readonly variants: {
    name: string;
    url: string;
    content_type: string;
    width: number;
    height: number;
    bytes: number;
  }[];
  readonly failure: { code: string; message: string } | null;
}

export interface InitMediaBody {
  readonly media_id: string;
  readonly status: string;
  readonly upload_url: string;
  readonly upload_method: string;
  readonly upload_headers: Record<string, string>;
  readonly expires_at: string;
}

export interface TweetBody {
  readonly tweet_id: string;
  readonly user_id: string;
  readonly text: string;
  readonly created_at: string;
  readonly media: MediaBody[];
}

export interface PageBody {
  readonly tweets: TweetBody[];
  readonly next_cursor: string | null;
}
