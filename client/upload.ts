/**
 * The upload flow: POST /v1/media/init, PUT the bytes to the presigned URL with exactly
 * `upload_headers` (or, for big files, each part to its URL, then POST .../complete), create the
 * tweet, then poll each media after `check_after_secs` until it is final. In a browser the PUTs go
 * through XMLHttpRequest, so upload progress is reported.
 */
import type { components } from './schema';
import type { Client } from 'openapi-fetch';
import { unwrap } from './errors';
import type { paths } from './schema';

type ChirpClient = Client<paths>;

type Media = components['schemas']['Media'];
type MediaUpload = components['schemas']['MediaUpload'];
export type SinglePutUpload = components['schemas']['SinglePutUpload'];
export type PartsUpload = components['schemas']['PartsUpload'];
type Tweet = components['schemas']['Tweet'];

export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

export interface PutOptions {
  /** Upload progress; reported in browsers (XMLHttpRequest), at the end only elsewhere. */
  readonly onProgress?: (progress: UploadProgress) => void;
  readonly signal?: AbortSignal;
}

export type UploadBody = Blob | ArrayBuffer | Uint8Array;

/** The PUT failed: S3's status and its XML error body. */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upload PUT failed: ${status} ${body.slice(0, 200)}`);
    this.name = 'UploadError';
  }
}

/** The part of the browser's XMLHttpRequest used here (the client compiles without the DOM lib). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: Blob | ArrayBuffer): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: {
    onprogress: ((event: { loaded: number; total: number }) => void) | null;
  };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

const browserXhr = (): (new () => Xhr) | undefined =>
  (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

const inBrowser = (): boolean => browserXhr() !== undefined;

/**
 * The headers to send: exactly `upload_headers`, except that a browser computes Content-Length
 * from the body itself (it refuses a script-set one, with a console error from XMLHttpRequest).
 */
export function putHeaders(upload: SinglePutUpload, browser = inBrowser()): Record<string, string> {
  const headers: Record<string, string> = { ...upload.upload_headers };
  if (browser) delete (headers as Record<string, string | undefined>)['content-length'];
  return headers;
}

const byteLength = (body: UploadBody): number =>
  body instanceof Blob ? body.size : body.byteLength;

/** PUTs with XMLHttpRequest (for its upload progress); resolves with the ETag header. */
function putWithXhr(
  Request: new () => Xhr,
  url: string,
  headers: Record<string, string>,
  body: UploadBody,
  options: PutOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new Request();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) =>
      options.onProgress?.({ loaded: event.loaded, total: event.total || byteLength(body) });
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader('ETag') ?? '');
      else reject(new UploadError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new UploadError(0, 'network error'));
    xhr.onabort = () => reject(new UploadError(0, 'aborted'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the DOM's Blob (web/tsconfig.json) wants ArrayBuffer-backed bytes; eslint reads client/ with Node's types
    xhr.send(body instanceof Uint8Array ? new Blob([body as Uint8Array<ArrayBuffer>]) : body);
  });
}

/** PUTs the bytes to the presigned URL with exactly the headers it was signed for. */
export async function putUpload(
  upload: SinglePutUpload,
  body: UploadBody,
  options: PutOptions = {},
): Promise<void> {
  const total = byteLength(body);
  if (String(total) !== upload.upload_headers['content-length']) {
    throw new UploadError(
      0,
      `the body has ${total} bytes, the upload was signed for ${upload.upload_headers['content-length']}`,
    );
  }
  const Xhr = browserXhr();
  if (Xhr !== undefined) {
    await putWithXhr(Xhr, upload.upload_url, putHeaders(upload, true), body, options);
    return;
  }
  const response = await fetch(upload.upload_url, {
    method: upload.upload_method,
    headers: putHeaders(upload, false),
    // Any Uint8Array is a valid body at run time; the DOM's BodyInit type wants ArrayBuffer-backed.
    body: body as Blob | ArrayBuffer | Uint8Array<ArrayBuffer>,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (!response.ok) throw new UploadError(response.status, await response.text());
  options.onProgress?.({ loaded: total, total });
}

export interface MediaFile {
  readonly bytes: UploadBody;
  /** One of the accepted types, e.g. image/jpeg. */
  readonly contentType: string;
  readonly altText?: string;
}

export interface PartsOptions extends PutOptions {
  /** Parts in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Attempts per part; only the failed part is sent again. @default 4 */
  readonly attempts?: number;
  /** First retry delay in ms, doubled per attempt. @default 500 */
  readonly retryDelayMs?: number;
  /** A fetch to use instead of the global one outside browsers (tests observe the PUTs). */
  readonly fetch?: typeof fetch;
}

/** A part failure worth sending again: the network, a timeout, throttling or S3's 5xx. */
const retryable = (error: unknown) =>
  error instanceof UploadError
    ? error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500
    : true;

async function putPart(url: string, body: UploadBody, options: PartsOptions): Promise<string> {
  const Xhr = browserXhr();
  // A browser sets Content-Length from the body; no other header is signed.
  if (Xhr !== undefined) return putWithXhr(Xhr, url, {}, body, options);
  const response = await (options.fetch ?? fetch)(url, {
    method: 'PUT',
    headers: { 'content-length': String(byteLength(body)) },
    body: body as Blob | ArrayBuffer | Uint8Array<ArrayBuffer>,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    throw new UploadError(0, String(error));
  });
  if (!response.ok) throw new UploadError(response.status, await response.text());
  await response.arrayBuffer();
  options.onProgress?.({ loaded: byteLength(body), total: byteLength(body) });
  return response.headers.get('etag') ?? '';
}

/**
 * PUTs each part of `body` to its presigned URL, `concurrency` at a time, retrying a failed part
 * alone (network errors, 408, 429, 5xx) up to `attempts` times, then completes the upload.
 * Progress counts the bytes of every part (a retried part starts again from zero).
 */
export async function putParts(
  client: ChirpClient,
  upload: PartsUpload,
  body: UploadBody,
  options: PartsOptions = {},
): Promise<Media> {
  const total = byteLength(body);
  const expected = upload.parts.reduce((sum, part) => sum + part.size_bytes, 0);
  if (total !== expected) {
    throw new UploadError(0, `the body has ${total} bytes, the upload was signed for ${expected}`);
  }
  const loaded = new Map<number, number>();
  const report = () =>
    options.onProgress?.({ loaded: [...loaded.values()].reduce((a, b) => a + b, 0), total });
  const etags = new Map<number, string>();
  const attempts = options.attempts ?? 4;
  const queue = [...upload.parts];
  const worker = async () => {
    for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
      const start = (part.part_number - 1) * upload.part_size_bytes;
      const slice = sliceOf(body, start, start + part.size_bytes);
      const number = part.part_number;
      for (let attempt = 1; ; attempt++) {
        try {
          const etag = await putPart(part.url, slice, {
            ...options,
            onProgress: (progress) => {
              loaded.set(number, progress.loaded);
              report();
            },
          });
          etags.set(number, etag);
          break;
        } catch (error) {
          loaded.set(number, 0);
          if (attempt >= attempts || !retryable(error) || options.signal?.aborted === true) {
            throw error;
          }
          await sleep((options.retryDelayMs ?? 500) * 2 ** (attempt - 1), options.signal);
        }
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, upload.parts.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return unwrap(
    await client.POST('/v1/media/{media_id}/complete', {
      params: { path: { media_id: upload.media_id } },
      body: {
        parts: upload.parts.map((part) => ({
          part_number: part.part_number,
          etag: etags.get(part.part_number) ?? '',
        })),
      },
    }),
  );
}

function sliceOf(body: UploadBody, start: number, end: number): UploadBody {
  if (body instanceof Blob) return body.slice(start, end);
  if (body instanceof Uint8Array) return body.subarray(start, end);
  return new Uint8Array(body, start, end - start);
}

/**
 * init + PUT (or the parts and complete, for big files): returns the init answer (the media is
 * then pending_upload or already processing).
 */
export async function uploadMedia(
  client: ChirpClient,
  file: MediaFile,
  options: PartsOptions = {},
): Promise<MediaUpload> {
  const upload = unwrap(
    await client.POST('/v1/media/init', {
      body: {
        content_type: file.contentType,
        size_bytes: byteLength(file.bytes),
        ...(file.altText !== undefined ? { alt_text: file.altText } : {}),
      },
    }),
  );
  if (upload.upload_method === 'PARTS') await putParts(client, upload, file.bytes, options);
  else await putUpload(upload, file.bytes, options);
  return upload;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason, passed on as fetch does
        reject(signal.reason);
      },
      { once: true },
    );
  });

export interface PollOptions {
  /** Give up after this long. @default 120000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Reads the media until it is final (`ready` or `failed`), waiting `check_after_secs` between reads. */
export async function waitForMedia(
  client: ChirpClient,
  mediaId: string,
  options: PollOptions = {},
): Promise<Media> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const media = unwrap(
      await client.GET('/v1/media/{media_id}', { params: { path: { media_id: mediaId } } }),
    );
    if (media.check_after_secs === undefined) return media;
    if (Date.now() + media.check_after_secs * 1000 > deadline) {
      throw new Error(`media ${mediaId} still ${media.status} after the timeout`);
    }
    await sleep(media.check_after_secs * 1000, options.signal);
  }
}

export interface PostTweetInput {
  readonly text: string;
  readonly media?: readonly MediaFile[];
  /** Makes a retry of this call safe (same key, same body: the same tweet). */
  readonly idempotencyKey?: string;
}

export interface PostTweetOptions extends PollOptions {
  /** Progress of each file's PUT, by its index in `media`. */
  readonly onProgress?: (index: number, progress: UploadProgress) => void;
}

/**
 * The whole flow: upload every file, create the tweet, wait until every media is final, and
 * return the tweet as it then reads.
 */
export async function postTweet(
  client: ChirpClient,
  input: PostTweetInput,
  options: PostTweetOptions = {},
): Promise<Tweet> {
  const uploads = await Promise.all(
    (input.media ?? []).map((file, index) =>
      uploadMedia(client, file, {
        ...(options.onProgress !== undefined
          ? { onProgress: (progress) => options.onProgress?.(index, progress) }
          : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
    ),
  );
  const created = unwrap(
    await client.POST('/v1/tweets', {
      body: {
        text: input.text,
        ...(uploads.length > 0 ? { media_ids: uploads.map((upload) => upload.media_id) } : {}),
      },
      ...(input.idempotencyKey !== undefined
        ? { params: { header: { 'Idempotency-Key': input.idempotencyKey } } }
        : {}),
    }),
  );
  if (created.media.every((media) => media.check_after_secs === undefined)) return created;
  await Promise.all(created.media.map((media) => waitForMedia(client, media.media_id, options)));
  return unwrap(
    await client.GET('/v1/tweets/{tweet_id}', {
      params: { path: { tweet_id: created.tweet_id } },
    }),
  );
}
