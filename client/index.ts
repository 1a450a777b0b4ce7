/**
 * Chirp's typed API client, for browsers and Node: the types are generated from openapi.yaml
 * (client/schema.d.ts, `npm run generate:client`), the calls go through openapi-fetch. It imports
 * nothing of the backend, so a web or mobile app can take this folder as it is.
 *
 *   const chirp = createChirpClient({ baseUrl: 'http://127.0.0.1:3000', token });
 *   const { data, error, response } = await chirp.GET('/v1/timeline', { params: { query: { limit: 20 } } });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components, paths } from './schema';
export type Schemas = components['schemas'];
export type Tweet = Schemas['Tweet'];
export type Media = Schemas['Media'];
export type MediaUpload = Schemas['MediaUpload'];
export type Page = Schemas['Page'];
export type Profile = Schemas['Profile'];
export type Me = Schemas['Me'];
export type User = Schemas['User'];
export type Author = Schemas['Author'];
export type ApiError = Schemas['ApiError'];
export type GatewayMessage = Schemas['GatewayMessage'];

export type ChirpClient = Client<paths>;

export interface ChirpClientOptions {
  /** The API's base URL, e.g. http://127.0.0.1:3000 or https://abc.execute-api.us-east-1.amazonaws.com */
  readonly baseUrl: string;
  /** The bearer token, or a function returning the current one (called per request). */
  readonly token?: string | (() => string | Promise<string>);
  /** A fetch to use instead of the global one (tests record responses through it). */
  readonly fetch?: (input: Request) => Promise<Response>;
}

export function createChirpClient(options: ChirpClientOptions): ChirpClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  const { token } = options;
  if (token !== undefined) {
    client.use({
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}

export { ChirpApiError, unwrap } from './errors';
export * from './upload';
