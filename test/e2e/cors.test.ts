/**
 * CORS of the local stack with its default configuration, as AWS answers for the same rules (the
 * app model's API_CORS, UPLOAD_CORS, MEDIA_CDN_CORS): API Gateway's preflights before the
 * authorizer, its headers on every answer; the bucket's rule on the presigned PUT; the CDN's
 * response headers policy.
 */
import { API_CORS } from '../../app/model';
import { ApiGatewayCors, localCorsOrigins, originMatcher } from '../../local/cors';
import { newUser, responseOf, untypedRequest } from '../support/api-client';
import { apiUrl, cdnUrl } from '../support/env';
import { generatePng, uploadMedia } from '../support/media';
import { rawRequest } from '../../soak/http';

const APP = 'http://localhost:5173';
const OTHER = 'https://evil.example';

function preflight(baseUrl: string, path: string, origin: string, method: string, headers: string) {
  return rawRequest({
    method: 'OPTIONS',
    baseUrl,
    path,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  });
}

describe('CORS, locally as on AWS', () => {
  it('allows any localhost and 127.0.0.1 port by default; CORS_ORIGINS narrows; "" allows none', () => {
    const defaults = originMatcher(localCorsOrigins({}));
    expect(defaults.allowOrigin('http://localhost:5173')).toBe('http://localhost:5173');
    expect(defaults.allowOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(defaults.allowOrigin('https://localhost:5173')).toBeUndefined();
    expect(defaults.allowOrigin('http://localhost.evil.example:80')).toBeUndefined();
    const narrowed = originMatcher(localCorsOrigins({ CORS_ORIGINS: 'https://app.example.com' }));
    expect(narrowed.allowOrigin('https://app.example.com')).toBe('https://app.example.com');
    expect(narrowed.allowOrigin('http://localhost:5173')).toBeUndefined();
    expect(new ApiGatewayCors(localCorsOrigins({ CORS_ORIGINS: '' })).enabled).toBe(false);
  });

  it('API: the gateway answers preflights itself, before the authorizer', async () => {
    const response = await preflight(
      apiUrl(),
      '/v1/media/init',
      APP,
      'POST',
      'authorization,content-type,idempotency-key',
    );
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': API_CORS.allowMethods.join(','),
      'access-control-allow-headers': API_CORS.allowHeaders.join(','),
      'access-control-max-age': String(API_CORS.maxAgeSeconds),
    });
    // Any path: preflights never reach routing.
    const anyPath = await preflight(apiUrl(), '/no/such/route', APP, 'GET', 'authorization');
    expect(anyPath.status).toBe(204);
    // Another origin: still 204, but nothing that would let the browser go on.
    const other = await preflight(apiUrl(), '/v1/media/init', OTHER, 'POST', 'authorization');
    expect(other.status).toBe(204);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // OPTIONS without Access-Control-Request-Method is no preflight: a route miss.
    const plain = await rawRequest({
      method: 'OPTIONS',
      baseUrl: apiUrl(),
      path: '/v1/timeline',
      headers: { origin: APP },
    });
    expect(plain.status).toBe(404);
  });

  it('API: every answer to an allowed origin carries the CORS headers, the gateway 401 too', async () => {
    const user = newUser('cors');
    const ok = await responseOf(user.api.GET('/v1/timeline', { headers: { origin: APP } }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toBe('retry-after');
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    // Untyped: no Authorization header at all.
    const unauthorized = await untypedRequest('GET', '/v1/timeline', undefined, {
      headers: { origin: APP },
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await responseOf(user.api.GET('/v1/timeline', { headers: { origin: OTHER } }));
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('S3: the bucket answers the PUT preflight for allowed origins only', async () => {
    const user = newUser('cors-s3');
    const init = await user.initSinglePut({
      content_type: 'image/png',
      size_bytes: 100,
    });
    const url = new URL(init.body.upload_url);
    const path = url.pathname + url.search;
    const allowed = await preflight(url.origin, path, APP, 'PUT', 'content-type');
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBeDefined();
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('PUT');
    const other = await preflight(url.origin, path, OTHER, 'PUT', 'content-type');
    expect(other.status).toBe(403);
    // A header the rule does not allow.
    const header = await preflight(url.origin, path, APP, 'PUT', 'content-type,x-custom');
    expect(header.status).toBe(403);
  });

  it('CDN: the response headers policy allows the configured origins', async () => {
    const user = newUser('cors-cdn');
    const png = await generatePng(40, 30);
    const init = await uploadMedia(user, png);
    // Only media attached to a tweet is served.
    expect((await user.createTweet({ text: 'cors', media_ids: [init.media_id] })).status).toBe(201);
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      const media = await user.getMedia(init.media_id);
      url = media.body.variants[0]?.url;
      if (url === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url?.startsWith(cdnUrl())).toBe(true);
    const allowed = await fetch(url as string, { headers: { origin: APP } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await fetch(url as string, { headers: { origin: OTHER } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
