/**
 * The local stand-ins for API Gateway, S3 notifications and the DynamoDB stream mapping build
 * the same event shapes AWS sends, so handlers cannot tell where they run.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from '@jest/globals';
import {
  buildEvent,
  compileRoutes,
  matchRoute,
  shapeResponse,
  type EventInput,
} from '../../local/api-gateway';
import { invokeAsync } from '../../local/async-invoke';
import { LOCAL_MAX_CONCURRENCY } from '../../local/lambda-runtime';
import { encodeEventKey, toAwsRecord, wantedByTranscoder } from '../../local/s3-events';
import { lambdaStreamArn, toLambdaRecord } from '../../local/stream-pump';
import { ROUTES } from '../../app/model';

const compiled = compileRoutes(ROUTES, 'eu-west-1');

function input(overrides: Partial<EventInput> = {}): EventInput {
  return {
    method: 'GET',
    rawPath: '/v1/tweets/abc',
    rawQueryString: '',
    rawHeaders: ['Host', 'api.local:3000', 'User-Agent', 'jest'],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    httpVersion: '1.1',
    routeKey: 'GET /v1/tweets/{tweet_id}',
    pathParameters: { tweet_id: 'abc' },
    caller: { claims: { sub: 'alice', exp: '1900000000' }, scopes: ['chirp/api'] },
    requestId: 'req-1',
    now: new Date(Date.UTC(2026, 10, 25, 15, 4, 5)),
    serverPort: 3000,
    ...overrides,
  };
}

describe('the API Gateway emulator', () => {
  it('matches routes from the app model, literal segments first, parameters decoded', () => {
    const media = matchRoute(compiled, 'POST', '/v1/media/init');
    expect(media?.route.routeKey).toBe('POST /v1/media/init');
    expect(media?.pathParameters).toBeUndefined();
    const tweet = matchRoute(compiled, 'GET', '/v1/tweets/a%20b');
    expect(tweet?.route.routeKey).toBe('GET /v1/tweets/{tweet_id}');
    expect(tweet?.pathParameters).toEqual({ tweet_id: 'a b' });
    expect(matchRoute(compiled, 'GET', '/v1/tweets/')).toBeUndefined();
    expect(matchRoute(compiled, 'POST', '/v1/timeline')).toBeUndefined();
  });

  it('builds a payload format 2.0 event like API Gateway', () => {
    const event = buildEvent(
      input({
        rawQueryString: 'limit=5&tag=a&tag=b%20c',
        rawHeaders: [
          'Host',
          'api.local:3000',
          'User-Agent',
          'jest',
          'X-Forwarded-For',
          '1.1.1.1',
          'x-forwarded-for',
          '2.2.2.2',
          'Cookie',
          'a=1; b=2',
          'Content-Type',
          'application/json',
        ],
        body: Buffer.from('{"text":"hi"}'),
      }),
    );
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'GET /v1/tweets/{tweet_id}',
      rawPath: '/v1/tweets/abc',
      rawQueryString: 'limit=5&tag=a&tag=b%20c',
      cookies: ['a=1', 'b=2'],
      headers: {
        host: 'api.local:3000',
        'user-agent': 'jest',
        'x-forwarded-for': '1.1.1.1,2.2.2.2, 127.0.0.1',
        'x-forwarded-port': '3000',
        'x-forwarded-proto': 'http',
        'x-amzn-trace-id': expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
        'content-type': 'application/json',
      },
      queryStringParameters: { limit: '5', tag: 'a,b c' },
      requestContext: {
        accountId: expect.stringMatching(/^\d{12}$/),
        apiId: expect.any(String),
        authorizer: { jwt: { claims: { sub: 'alice', exp: '1900000000' }, scopes: ['chirp/api'] } },
        domainName: 'api.local:3000',
        domainPrefix: 'api',
        http: {
          method: 'GET',
          path: '/v1/tweets/abc',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'jest',
        },
        requestId: 'req-1',
        routeKey: 'GET /v1/tweets/{tweet_id}',
        stage: '$default',
        time: '25/Nov/2026:15:04:05 +0000',
        timeEpoch: Date.UTC(2026, 10, 25, 15, 4, 5),
      },
      pathParameters: { tweet_id: 'abc' },
      body: '{"text":"hi"}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes binary bodies and text bodies that are not UTF-8, and omits absent parts', () => {
    const binary = buildEvent(
      input({
        rawHeaders: ['Content-Type', 'image/png'],
        body: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      }),
    );
    expect(binary).toMatchObject({ body: 'iVBORw==', isBase64Encoded: true });
    const invalidUtf8 = buildEvent(
      input({
        rawHeaders: ['Content-Type', 'application/json'],
        body: Buffer.from([0x22, 0xff, 0x22]),
      }),
    );
    expect(invalidUtf8).toMatchObject({ body: 'Iv8i', isBase64Encoded: true });
    const bare = buildEvent(input({ pathParameters: undefined }));
    expect(bare).not.toHaveProperty('body');
    expect(bare).not.toHaveProperty('queryStringParameters');
    expect(bare).not.toHaveProperty('pathParameters');
    expect(bare).not.toHaveProperty('cookies');
    expect(bare.isBase64Encoded).toBe(false);
  });

  it('shapes handler results by the payload 2.0 response rules', () => {
    const structured = shapeResponse({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Count': 3 },
      cookies: ['a=1'],
      body: '{"ok":true}',
    });
    expect(structured).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-count': '3' },
      cookies: ['a=1'],
      body: Buffer.from('{"ok":true}'),
    });
    expect(
      shapeResponse({ statusCode: 200, body: 'aGk=', isBase64Encoded: true }).body.toString(),
    ).toBe('hi');
    // A JSON value without statusCode is a 200 with that JSON.
    const inferred = shapeResponse({ hello: 'world' } as never);
    expect(inferred.statusCode).toBe(200);
    expect(inferred.headers['content-type']).toBe('application/json');
    expect(JSON.parse(inferred.body.toString())).toEqual({ hello: 'world' });
    // A broken result is API Gateway's 500.
    expect(shapeResponse({ statusCode: 99 }).statusCode).toBe(500);
    expect(JSON.parse(shapeResponse(undefined).body.toString())).toEqual({
      message: 'Internal Server Error',
    });
  });
});

describe('S3 notifications', () => {
  const raw = {
    eventVersion: '2.0',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-25T15:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:X' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {},
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'testConfigId',
      bucket: {
        name: 'chirp-media',
        ownerIdentity: { principalId: 'Y' },
        arn: 'arn:aws:s3: : :chirp-media',
      },
      object: { key: 'uploads/a b+c(1).png', size: 42, eTag: '"abc123"', sequencer: '18F0A' },
    },
  };

  it('reshapes s3rver records into the S3 event record AWS sends', () => {
    const record = toAwsRecord(raw, 'eu-west-1');
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: 'chirp-media', arn: 'arn:aws:s3:::chirp-media' },
        object: { key: 'uploads/a+b%2Bc%281%29.png', size: 42, eTag: 'abc123' },
      },
    });
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16,}$/);
    // What handlers do with the key gives back the original.
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(
      'uploads/a b+c(1).png',
    );
    expect(encodeEventKey('uploads/x')).toBe('uploads/x');
  });

  it('delivers only ObjectCreated events under the uploads prefix, like the CDK notification', () => {
    expect(wantedByTranscoder(raw)).toBe(true);
    expect(
      wantedByTranscoder({
        ...raw,
        s3: { ...raw.s3, object: { ...raw.s3.object, key: 'media/x/large.webp' } },
      }),
    ).toBe(false);
    expect(wantedByTranscoder({ ...raw, eventName: 'ObjectRemoved:Delete' })).toBe(false);
  });
});

describe('asynchronous invocation', () => {
  it('retries a failed event twice under one request id, as Lambda does, then gives up', async () => {
    const requestIds: string[] = [];
    const logged: string[] = [];
    const delivered = await invokeAsync(
      (requestId) => {
        requestIds.push(requestId);
        return Promise.reject(new Error('still down'));
      },
      { baseDelayMs: 1, describe: 'event', log: (line) => logged.push(line) },
    );
    expect(delivered).toBe(false);
    expect(requestIds).toHaveLength(3);
    expect(new Set(requestIds).size).toBe(1);
    expect(logged.at(-1)).toMatch(/failed after 3 attempts/);

    const other: string[] = [];
    await invokeAsync(
      (requestId) => {
        other.push(requestId);
        return Promise.resolve();
      },
      {
        describe: 'another event',
        log: () => undefined,
      },
    );
    expect(other).toHaveLength(1);
    expect(other[0]).not.toBe(requestIds[0]);
  });
});

describe('DynamoDB stream records', () => {
  it('are delivered in the Lambda DynamoDBStreamEvent record shape', () => {
    const arn = lambdaStreamArn(
      'arn:aws:dynamodb:ddblocal:000000000000:table/chirp-tweets/stream/2026-11-25T15:36:19.581',
      'eu-west-1',
    );
    expect(arn).toBe(
      'arn:aws:dynamodb:eu-west-1:000000000000:table/chirp-tweets/stream/2026-11-25T15:36:19.581',
    );
    const record = toLambdaRecord(
      {
        eventID: 'e1',
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date(1_764_000_000_000),
          Keys: { user_id: { S: 'alice' }, tweet_id: { S: 't1' } },
          NewImage: { user_id: { S: 'alice' }, tweet_id: { S: 't1' }, text: { S: 'hi' } },
          SequenceNumber: '000001',
          SizeBytes: 40,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      arn,
      'eu-west-1',
    );
    expect(record).toEqual({
      eventID: 'e1',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        ApproximateCreationDateTime: 1_764_000_000,
        Keys: { user_id: { S: 'alice' }, tweet_id: { S: 't1' } },
        NewImage: { user_id: { S: 'alice' }, tweet_id: { S: 't1' }, text: { S: 'hi' } },
        SequenceNumber: '000001',
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: arn,
    });
  });
});

/** Runs test/e2e/fixtures/invoke-concurrently.ts; its last line of stdout, parsed. */
function invokeConcurrently(...args: string[]): unknown {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', resolve(__dirname, 'fixtures', 'invoke-concurrently.ts'), ...args],
    {
      cwd: resolve(__dirname, '..', '..'),
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO' },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? 'null');
}

describe('an execution environment', () => {
  it("keeps each concurrent invocation's log context its own, as Lambda's multi-concurrency runtime does", () => {
    // Two invocations in flight at once in one environment (a worker thread): the slow one logs
    // after the fast one has started, logged and finished.
    const lines = invokeConcurrently() as Record<string, unknown>[];
    const byRequest = new Map(lines.map((line) => [line.function_request_id, line]));
    expect(lines).toHaveLength(2);
    expect(byRequest.get('lambda-fast')).toMatchObject({ correlation_id: 'api-fast' });
    expect(byRequest.get('lambda-slow')).toMatchObject({ correlation_id: 'api-slow' });
    // The environment's first invocation is its cold start; the other is not.
    expect(lines.map((line) => line.cold_start).sort()).toEqual([false, true]);
  });

  it('runs at most LOCAL_MAX_CONCURRENCY invocations at once; the next waits for one to end', () => {
    const startedMs = invokeConcurrently('--over-capacity') as number[];
    expect(startedMs).toHaveLength(LOCAL_MAX_CONCURRENCY + 1);
    // Each of the first 64 waits 300 ms: the 65th starts only once one of them has ended.
    expect(Math.max(...startedMs.slice(0, LOCAL_MAX_CONCURRENCY))).toBeLessThan(250);
    expect(startedMs[LOCAL_MAX_CONCURRENCY]).toBeGreaterThanOrEqual(300);
  });

  it("fails an invocation past the function's timeout, and its late result answers no other", () => {
    const { late, next } = invokeConcurrently('--timeout') as {
      late: { error?: string; afterMs: number };
      next: { waitMs: number };
    };
    expect(late.error).toBe('FunctionTimeoutError');
    // Not before the timeout (the handler itself would have answered after 1.5 s).
    expect(late.afterMs).toBeGreaterThanOrEqual(1000);
    // The next invocation was running when the late result came back; it got its own.
    expect(next.waitMs).toBe(800);
  });

  it('fails the invocations of an environment that crashed, and starts a new one for the next', () => {
    const ended = invokeConcurrently('--crash') as Record<string, string>;
    expect(ended.crashed).toBe('failed: the runtime crashed');
    // In flight in the same environment: it dies with it.
    expect(ended.inFlight).toBe('failed: the runtime crashed');
    expect(ended.next).toBe('answered {"waitMs":0}');
  });
});
