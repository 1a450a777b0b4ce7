import './setup-env';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  isMediaId,
  newMediaId,
  newTweetId,
  parseTweetId,
  tweetTime,
  ulid,
} from '../../lambdas/core/ids';
import { createTweet, getTweet } from '../../lambdas/core/tweets/service';
import { readHomeTimeline } from '../../lambdas/core/timelines/service';
import { httpHandler, json } from '../../lambdas/platform/http';
import { documentStore, type DocumentStore } from '../../lambdas/platform/document-store';
import { errorCode, httpEvent, newUser, parse, testDeps } from './harness';

describe('ids', () => {
  it('makes ULIDs that increase strictly within one millisecond and encode their time', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const ids = Array.from({ length: 1000 }, () => ulid(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect(tweetTime(ids[999] ?? '')).toBe(now);
    // A clock that goes backwards never breaks the order.
    expect(ulid(now - 5000) > (ids[999] ?? '')).toBe(true);
  });

  it('splits tweet ids into their owner and refuses anything else', () => {
    const id = newTweetId('alice.b-c_d');
    expect(parseTweetId(id)).toEqual({ user_id: 'alice.b-c_d', tweet_id: id });
    for (const bad of [
      '',
      'x',
      `${id.slice(0, 26)}`,
      `${id.slice(0, 26)}-`,
      `${id.slice(0, 26)}_alice`,
      `${id.slice(0, 26)}-al/ice`,
      `${id.slice(0, 26)}-${'a'.repeat(129)}`,
      `8${id.slice(1)}`,
    ]) {
      expect([bad, parseTweetId(bad)]).toEqual([bad, undefined]);
    }
  });

  it('makes media ids that are ULIDs with fresh randomness', () => {
    const now = Date.now();
    const [a, b] = [newMediaId(now), newMediaId(now)];
    expect(isMediaId(a) && isMediaId(b)).toBe(true);
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(a.slice(10)).not.toBe(b.slice(10));
  });
});

describe('with DynamoDB failing', () => {
  // A real HTTP endpoint answering 503 as an overloaded DynamoDB would. (A closed port would do
  // too on Lambda, but under Jest's VM realm the SDK re-wraps Node's connection error and drops
  // its code, which the shared edge cannot recognise; see the report.)
  let server: Server;
  let deadClient: DynamoDBDocumentClient;
  let deadDynamo: DocumentStore;
  beforeAll(async () => {
    server = createServer((_, response) => {
      response.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({ __type: 'com.amazonaws.dynamodb#ServiceUnavailable', message: 'down' }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    deadClient = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }),
    );
    const sdk = await import('../../lambdas/platform/aws-sdk');
    deadDynamo = documentStore(() => Promise.resolve({ sdk, client: deadClient }));
  });
  afterAll(async () => {
    deadClient.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('routes answer 503 with Retry-After, never a bare 500', async () => {
    const deps = testDeps({ dynamo: deadDynamo });
    const user = newUser();
    const calls: (() => Promise<unknown>)[] = [
      () => createTweet(deps, user, { text: 'x', media_ids: [] }),
      () => getTweet(deps, `01J00000000000000000000000-${user}`),
      () => readHomeTimeline(deps, user, { limit: 5 }),
    ];
    for (const call of calls) {
      const route = httpHandler(async () => json(200, await call()));
      const result = parse(await route(httpEvent('GET /v1/anything', { user })));
      expect([result.status, errorCode(result)]).toEqual([503, 'service_unavailable']);
      expect(result.headers['retry-after']).toBe('1');
    }
  });
});

describe('create-tweet transaction token', () => {
  it('turns a resent, already applied transaction into a success, as after an SDK retry', async () => {
    const { dynamo, tables } = await import('../../lambdas/platform/clients');
    const { TransactWriteCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const user = newUser();
    const tweetId = newTweetId(user);
    const input = {
      TransactItems: [
        {
          Put: {
            TableName: tables.tweets,
            Item: {
              user_id: user,
              tweet_id: tweetId,
              text: 'once',
              created_at: new Date().toISOString(),
              media_ids: [],
            },
            ConditionExpression: 'attribute_not_exists(tweet_id)',
          },
        },
      ],
      ClientRequestToken: tweetId.slice(0, 26),
    };
    await dynamo.send(new TransactWriteCommand(input));
    await expect(dynamo.send(new TransactWriteCommand(input))).resolves.toBeDefined();
    const stored = await dynamo.send(
      new GetCommand({
        TableName: tables.tweets,
        Key: { user_id: user, tweet_id: tweetId },
        ConsistentRead: true,
      }),
    );
    expect(stored.Item?.text).toBe('once');
  });
});
