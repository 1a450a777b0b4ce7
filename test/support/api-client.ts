/**
 * HTTP access to the local stack's API emulator for end-to-end tests: the generated typed client
 * (client/, `user.api`) for every well-formed call, so a contract change breaks the tests' build,
 * and `untypedRequest` only for what a typed client cannot send (malformed bodies or query strings,
 * paths outside the contract, missing or forged Authorization). Every response either way is
 * checked against openapi.yaml.
 */
import { randomBytes } from 'node:crypto';
import {
  createChirpClient,
  type ChirpClient,
  type Media,
  type MediaUpload,
  type Page,
  type PartsUpload,
  type SinglePutUpload,
  type Tweet,
} from '../../client';
import type { operations } from '../../client/schema';
import { ApiClient, type RawResponse } from '../../soak/http';
import { checkedBodyOf, contractFetch, expectDeclared, headersOf } from './contract';
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

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An HTTP request the typed client cannot express (malformed input, a forged or missing token, a
 * path outside the contract). Use `user.api` for everything else.
 */
export async function untypedRequest<T = unknown>(
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
  return { status: response.status, headers: response.headers, body: parseJson(text) as T, text };
}

/**
 * A typed call's result in the same shape as untypedRequest's, so assertions read alike: `body` is
 * the JSON the contract check saw (typed as the success body; an error's is `ErrorBody`).
 */
export async function responseOf<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<ApiResponse<D>> {
  const { response } = await call;
  const text = checkedBodyOf(response);
  return { status: response.status, headers: response.headers, body: parseJson(text) as D, text };
}

type JsonBodyOf<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;
type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

/** Every TestUser made in this test file, by id. */
const testUsers = new Map<string, TestUser>();

/**
 * The user behind an id about to be followed or listed has made their first call (a user exists
 * from it, as every real user following or listed has), if a TestUser holds the id. Other ids are
 * left as they are: those are the tests of ids that never called.
 */
async function calledBefore(userId: string): Promise<void> {
  await testUsers.get(userId)?.exists();
}

/** A user of the API: a unique id per test run and a token for it. */
export class TestUser {
  readonly token: string;
  /** The generated client, as this user; its responses are checked against the contract. */
  readonly api: ChirpClient;
  private firstCall: Promise<void> | undefined;

  constructor(readonly id: string) {
    this.token = mintToken(id);
    this.api = createChirpClient({ baseUrl: apiUrl(), token: this.token, fetch: contractFetch });
    testUsers.set(id, this);
  }

  /** Makes this user's first call (GET /v1/me) once, unless they made one: they exist. */
  exists(): Promise<void> {
    this.firstCall ??= this.me().then((response) => {
      if (response.status !== 200) throw new Error(`GET /v1/me answered ${response.status}`);
    });
    return this.firstCall;
  }

  // The routes through the generated client, as ApiResponses (see responseOf); the argument
  // types are the contract's, so a changed contract fails the tests' typecheck.
  initMedia(body: JsonBodyOf<'initMedia'>) {
    return responseOf(this.api.POST('/v1/media/init', { body }));
  }
  /** media/init for a size that takes one PUT (at most LIMITS.multipartThresholdBytes). */
  async initSinglePut(body: JsonBodyOf<'initMedia'>): Promise<ApiResponse<SinglePutUpload>> {
    const response = await this.initMedia(body);
    if (response.status === 201 && response.body.upload_method !== 'PUT') {
      throw new Error(`expected a single PUT upload, got ${response.body.upload_method}`);
    }
    return response as ApiResponse<SinglePutUpload>;
  }
  /** media/init for a size that takes parts (above LIMITS.multipartThresholdBytes). */
  async initParts(body: JsonBodyOf<'initMedia'>): Promise<ApiResponse<PartsUpload>> {
    const response = await this.initMedia(body);
    if (response.status === 201 && response.body.upload_method !== 'PARTS') {
      throw new Error(`expected an upload in parts, got ${response.body.upload_method}`);
    }
    return response as ApiResponse<PartsUpload>;
  }
  completeUpload(media_id: string, body: JsonBodyOf<'completeMediaUpload'>) {
    return responseOf(
      this.api.POST('/v1/media/{media_id}/complete', { params: { path: { media_id } }, body }),
    );
  }
  getMedia(media_id: string) {
    return responseOf(this.api.GET('/v1/media/{media_id}', { params: { path: { media_id } } }));
  }
  createTweet(body: JsonBodyOf<'createTweet'>, idempotencyKey?: string) {
    const header = idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey };
    return responseOf(this.api.POST('/v1/tweets', { body, params: { header } }));
  }
  getTweet(tweet_id: string) {
    return responseOf(this.api.GET('/v1/tweets/{tweet_id}', { params: { path: { tweet_id } } }));
  }
  deleteTweet(tweet_id: string) {
    return responseOf(this.api.DELETE('/v1/tweets/{tweet_id}', { params: { path: { tweet_id } } }));
  }
  timeline(query: QueryOf<'getTimeline'> = {}) {
    return responseOf(this.api.GET('/v1/timeline', { params: { query } }));
  }
  async userTweets(user_id: string, query: QueryOf<'listUserTweets'> = {}) {
    await calledBefore(user_id);
    return responseOf(
      this.api.GET('/v1/users/{user_id}/tweets', { params: { path: { user_id }, query } }),
    );
  }
  async follow(user_id: string) {
    await calledBefore(user_id);
    return responseOf(
      this.api.PUT('/v1/users/{user_id}/follow', { params: { path: { user_id } } }),
    );
  }
  unfollow(user_id: string) {
    return responseOf(
      this.api.DELETE('/v1/users/{user_id}/follow', { params: { path: { user_id } } }),
    );
  }

  me() {
    return responseOf(this.api.GET('/v1/me'));
  }
  updateProfile(body: JsonBodyOf<'updateProfile'>) {
    return responseOf(this.api.PUT('/v1/me/profile', { body }));
  }
  profile(handle: string) {
    return responseOf(this.api.GET('/v1/profiles/{handle}', { params: { path: { handle } } }));
  }

  /** A request the typed client cannot send (see untypedRequest), with this user's token. */
  untyped<T = unknown>(method: string, path: string, options?: RequestOptions) {
    return untypedRequest<T>(method, path, this.token, options);
  }
}

/** Users with ids unique to this run, so test files sharing the stack never collide. */
export function newUser(name: string): TestUser {
  return new TestUser(`${name}-${randomBytes(4).toString('hex')}`);
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastFailure = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastFailure = `: ${String(error)}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastFailure}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** The error body of a response (typed calls type `body` as their success body). */
export function errorOf(response: { body: unknown }): ErrorBody {
  return response.body as ErrorBody;
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
export type InitMediaBody = SinglePutUpload;
export type AnyUploadBody = MediaUpload;
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
