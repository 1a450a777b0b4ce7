/**
 * openapi.yaml against the app model and against itself: every route of the model is an operation
 * (and nothing else is), and the contract check refuses what the document does not declare.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { parse } from 'yaml';
import { ROUTES } from '../../app/model';
import { apiContract } from '../support/contract';

const document = parse(readFileSync(resolve(__dirname, '..', '..', 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { security?: unknown }>>;
  security: unknown;
};

const TWEET = {
  tweet_id: '01JD2WA3M0XK3Q8Y6N5V4T2R1P-alice',
  user_id: 'alice',
  text: 'hi',
  created_at: '2026-11-25T16:20:31.123Z',
  media: [],
};
const json = { 'content-type': 'application/json' };

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document for swagger-parser (schema and every $ref)', async () => {
    const validated = await SwaggerParser.validate(resolve(__dirname, '..', '..', 'openapi.yaml'));
    expect((validated as { openapi?: string }).openapi).toMatch(/^3\.1\./);
    const broken = structuredClone(document) as unknown as { paths: Record<string, unknown> };
    broken.paths['/v1/nowhere'] = {
      get: { responses: { '200': { $ref: '#/components/responses/Nope' } } },
    };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });

  it('declares exactly the routes of the app model, all behind the bearer JWT', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(document.security).toEqual([{ bearerJwt: [] }]);
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) expect(operation.security).toBeUndefined();
    }
  });

  it('accepts a declared response and refuses undeclared ones', () => {
    const contract = apiContract();
    const ok = { method: 'GET', path: `/v1/tweets/${TWEET.tweet_id}`, headers: json };
    expect(contract.check({ ...ok, status: 200, body: JSON.stringify(TWEET) })).toEqual([]);
    // A field the document does not have, a wrong type, a status it does not list, a wrong code.
    expect(
      contract.check({ ...ok, status: 200, body: JSON.stringify({ ...TWEET, extra: 1 }) }),
    ).not.toEqual([]);
    expect(
      contract.check({ ...ok, status: 200, body: JSON.stringify({ ...TWEET, media: null }) }),
    ).not.toEqual([]);
    expect(contract.check({ ...ok, status: 409, body: '{}' })).not.toEqual([]);
    const error = (code: string) => JSON.stringify({ error: { code, message: 'm' } });
    expect(contract.check({ ...ok, status: 404, body: error('tweet_not_found') })).toEqual([]);
    expect(contract.check({ ...ok, status: 404, body: error('media_not_found') })).not.toEqual([]);
    // 503 must say when to retry.
    const unavailable = { ...ok, status: 503, body: error('service_unavailable') };
    expect(contract.check(unavailable)).not.toEqual([]);
    expect(contract.check({ ...unavailable, headers: { ...json, 'retry-after': '1' } })).toEqual(
      [],
    );
    // 204 has no body; API Gateway's own answers have their message.
    const del = { method: 'DELETE', path: `/v1/tweets/${TWEET.tweet_id}`, headers: {} };
    expect(contract.check({ ...del, status: 204, body: '' })).toEqual([]);
    expect(contract.check({ ...del, status: 204, body: '{}' })).not.toEqual([]);
    const gateway = (message: string) => JSON.stringify({ message });
    expect(contract.check({ ...ok, status: 401, body: gateway('Unauthorized') })).toEqual([]);
    expect(contract.check({ ...ok, status: 401, body: gateway('Forbidden') })).not.toEqual([]);
    // No route: only API Gateway's 404.
    const noRoute = { method: 'PATCH', path: '/v1/tweets/x', headers: json };
    expect(contract.check({ ...noRoute, status: 404, body: gateway('Not Found') })).toEqual([]);
    expect(contract.check({ ...noRoute, status: 200, body: '{}' })).not.toEqual([]);
  });
});
