/**
 * HTTP access to the local stack's API emulator for end-to-end tests: the generated typed client
 * (client/) for ordinary calls, and `request` for anything a typed client cannot send (malformed
 * bodies, bad paths). Every response either way is checked against openapi.yaml.
 */
import { randomBytes } from 'node:crypto';
import {
  createChirpClient,
  type ChirpClient,
  type Media,
  type MediaUpload,
  type Page,
  type Tweet,
} from '../../client';
import { ApiClient, type RawResponse } from '../../soak/http';
import { contractFetch, expectDeclared, headersOf } from './contract';
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
  expectDeclared({
    method,
    path,
    status: response.status,
    headers: headersOf(response.headers),
    body: text,
  });
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
  /** The generated client, as this user; its responses are checked against the contract. */
  readonly api: ChirpClient;

  constructor(readonly id: string) {
    this.token = mintToken(id);
    this.api = createChirpClient({ baseUrl: apiUrl(), token: this.token, fetch: contractFetch });
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

/** The API's objects, as the generated client types them (from openapi.yaml). */
export type MediaBody = Media;
export type InitMediaBody = MediaUpload;
export type TweetBody = Tweet;
export type PageBody = Page;

/** soak/http's byte-exact client, with every response checked against the contract. */
export class CheckedRawClient extends ApiClient {
  override async send(...args: Parameters<ApiClient['send']>): Promise<RawResponse> {
    const [method, path] = args;
    const response = await super.send(...args);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    expectDeclared({ method, path, status: response.status, headers, body: response.body });
    return response;
  }
}
