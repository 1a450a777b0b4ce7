/**
 * The local HTTP API rejects what the HTTP API JWT authorizer rejects, with API Gateway's own
 * bodies, before any handler runs; and answers unknown routes and oversized bodies like API Gateway.
 */
import { createHmac } from 'node:crypto';
import { generateSigningKey, LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, signJwt } from '../../local/jwt';
import { newUser, untypedRequest } from '../support/api-client';
import { mintToken, stackSigningKey } from '../support/env';

const UNAUTHORIZED = { message: 'Unauthorized' };

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: LOCAL_JWT_ISSUER,
    aud: LOCAL_JWT_AUDIENCE,
    sub: 'mallory',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Untyped: the Authorization header itself (missing, malformed, forged) is under test. */
async function timelineWith(authorization: string | null) {
  return untypedRequest('GET', '/v1/timeline', undefined, { authorization });
}

describe('JWT authorizer of the local HTTP API', () => {
  const key = stackSigningKey();
  const header = { alg: 'RS256', typ: 'JWT', kid: key.kid };

  it('accepts a token from the local identity provider', async () => {
    const response = await timelineWith(`Bearer ${mintToken(newUser('ok').id)}`);
    expect(response.status).toBe(200);
  });

  it.each([
    ['no Authorization header', () => null],
    ['an empty bearer token', () => 'Bearer '],
    ['a token that is not a JWT', () => 'Bearer not-a-jwt'],
    ['alg none', () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    [
      'alg none with the kid of the real key',
      () => `Bearer ${b64({ alg: 'none', kid: key.kid })}.${b64(claims())}.`,
    ],
    [
      'a token signed by another key with the same kid',
      () => `Bearer ${signJwt(generateSigningKey().privateKeyPem, header, claims())}`,
    ],
    [
      'an expired token',
      () =>
        `Bearer ${signJwt(key.privateKeyPem, header, claims({ exp: Math.floor(Date.now() / 1000) - 60 }))}`,
    ],
    [
      'a token without exp',
      () => `Bearer ${signJwt(key.privateKeyPem, header, claims({ exp: undefined }))}`,
    ],
    [
      'a token not valid yet (nbf)',
      () =>
        `Bearer ${signJwt(key.privateKeyPem, header, claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))}`,
    ],
    [
      'a wrong issuer',
      () =>
        `Bearer ${signJwt(key.privateKeyPem, header, claims({ iss: 'https://evil.example/' }))}`,
    ],
    [
      'a wrong audience',
      () => `Bearer ${signJwt(key.privateKeyPem, header, claims({ aud: 'another-api' }))}`,
    ],
    [
      'a wrong aud, even with the right client_id (aud is evaluated when present)',
      () =>
        `Bearer ${signJwt(key.privateKeyPem, header, claims({ aud: 'another-api', client_id: LOCAL_JWT_AUDIENCE }))}`,
    ],
    [
      'an iat in the future (ten years)',
      () =>
        `Bearer ${signJwt(key.privateKeyPem, header, claims({ iat: Math.floor(Date.now() / 1000) + 10 * 365 * 86400 }))}`,
    ],
    [
      'a sub that is not a string (123)',
      () => `Bearer ${signJwt(key.privateKeyPem, header, claims({ sub: 123 }))}`,
    ],
    [
      'an unknown kid',
      () => `Bearer ${signJwt(key.privateKeyPem, { ...header, kid: 'other' }, claims())}`,
    ],
    [
      'a tampered payload (sub changed after signing)',
      () => {
        const [h, , s] = mintToken('mallory').split('.');
        return `Bearer ${h}.${b64(claims({ sub: 'alice' }))}.${s}`;
      },
    ],
    [
      'HS256 signed with the public key (algorithm confusion)',
      () => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(claims())}`;
        const mac = createHmac('sha256', key.publicKeyPem).update(input).digest('base64url');
        return `Bearer ${input}.${mac}`;
      },
    ],
  ])('rejects %s with 401 {"message":"Unauthorized"}', async (_name, authorization) => {
    const response = await timelineWith(authorization());
    expect(response.status).toBe(401);
    expect(response.body).toEqual(UNAUTHORIZED);
  });

  it('accepts the audience in client_id when the token has no aud (access tokens)', async () => {
    const token = signJwt(
      key.privateKeyPem,
      header,
      claims({ aud: undefined, client_id: LOCAL_JWT_AUDIENCE, sub: newUser('access').id }),
    );
    expect((await timelineWith(`Bearer ${token}`)).status).toBe(200);
  });

  it('rejects a valid token without a subject (the handler finds no caller)', async () => {
    const token = signJwt(key.privateKeyPem, header, claims({ sub: undefined }));
    const response = await timelineWith(`Bearer ${token}`);
    expect(response.status).toBe(401);
  });

  it('answers an unknown route or method with 404 {"message":"Not Found"}, before auth', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nothing-here'],
      ['PATCH', '/v1/tweets/abc'],
      ['GET', '/v1/tweets'],
      ['GET', '/v1/tweets/a/b'],
    ] as const) {
      // Untyped: routes and methods outside the contract.
      const response = await untypedRequest(method, path, undefined);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ message: 'Not Found' });
    }
  });

  it('rejects a body over the 10 MB payload limit with 413', async () => {
    const user = newUser('big');
    // Untyped: 10 MiB of raw bytes, not a request body the contract allows.
    const response = await untypedRequest('POST', '/v1/tweets', user.token, {
      rawBody: Buffer.alloc(10 * 1024 * 1024 + 1, 'a'),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
  });
});
