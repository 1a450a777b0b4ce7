/**
 * AWS's event shapes, checked by AWS's schemas (@aws-lambda-powertools/parser): the events the
 * local stack builds (HTTP API payload 2.0, S3 ObjectCreated, DynamoDB stream records) must parse,
 * and the handlers are fed AWS's own sample events: URL-encoded keys with spaces and unicode, a
 * stream batch with INSERT, MODIFY and REMOVE mixed, the sweeper's scheduled event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecordOut,
} from '@aws-sdk/client-dynamodb-streams';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  APIGatewayProxyEventV2Schema,
  DynamoDBStreamSchema,
  EventBridgeSchema,
  S3Schema,
} from '@aws-lambda-powertools/parser/schemas';
import type S3rver from '@20minutes/s3rver';
import type { DynamoDBStreamEvent, S3Event } from 'aws-lambda';
import { Redis } from 'ioredis';
import { ENV } from '../../app/model';
import {
  TIMELINE_SENTINEL,
  timelineKeys,
  timelineMember,
} from '../../lambdas/core/timelines/store-keys';
import { tweetTime } from '../../lambdas/core/ids';
import { buildEvent } from '../../local/api-gateway';
import { S3Emulator, S3RVER_CREDENTIALS } from '../../local/s3-emulator';
import { toAwsRecord } from '../../local/s3-events';
import { lambdaStreamArn, toLambdaRecord } from '../../local/stream-pump';
import { uploadsFromS3Event } from '../../lambdas/transcoder/s3-event';
import { eventually, newUser } from '../support/api-client';
import { applyServiceEnv, serviceEnv } from '../support/env';
import { STACK_ENV } from '../support/stack-info';
import { s3ObjectCreatedSample, scheduledEventSample, tweetStreamSample } from './aws-samples';

const REGION = 'us-east-1';

describe('HTTP API events (payload 2.0)', () => {
  const base = {
    method: 'GET',
    rawPath: '/v1/tweets/abc',
    rawQueryString: '',
    rawHeaders: ['Host', '127.0.0.1:3000', 'User-Agent', 'jest'],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    httpVersion: '1.1',
    routeKey: 'GET /v1/tweets/{tweet_id}',
    pathParameters: { tweet_id: 'abc' } as Record<string, string> | undefined,
    caller: { claims: { sub: 'alice', exp: '1900000000' }, scopes: [] as string[] },
    requestId: 'Jk3Z5gQJIAMEbXA=',
    now: new Date(),
  };

  it.each([
    ['a GET with a path parameter', base],
    [
      'a GET with a query string and cookies',
      {
        ...base,
        rawPath: '/v1/timeline',
        rawQueryString: 'limit=5&cursor=abc&tag=a&tag=b%20c',
        rawHeaders: [...base.rawHeaders, 'Cookie', 'a=1; b=2'],
        routeKey: 'GET /v1/timeline',
        pathParameters: undefined,
      },
    ],
    [
      'a POST with a JSON body',
      {
        ...base,
        method: 'POST',
        rawPath: '/v1/tweets',
        rawHeaders: [...base.rawHeaders, 'Content-Type', 'application/json'],
        body: Buffer.from('{"text":"hi"}'),
        routeKey: 'POST /v1/tweets',
        pathParameters: undefined,
      },
    ],
    [
      'a POST with a binary body (base64)',
      {
        ...base,
        method: 'POST',
        rawPath: '/v1/media/init',
        rawHeaders: [...base.rawHeaders, 'Content-Type', 'application/octet-stream'],
        body: Buffer.from([0, 255, 1, 254]),
        routeKey: 'POST /v1/media/init',
        pathParameters: undefined,
      },
    ],
  ])('%s parses with APIGatewayProxyEventV2Schema', (_name, input) => {
    const event = buildEvent(input);
    const parsed = APIGatewayProxyEventV2Schema.parse(event);
    expect(parsed.requestContext.authorizer?.jwt?.claims.sub).toBe('alice');
    expect(parsed.routeKey).toBe(input.routeKey);
  });
});

describe('S3 ObjectCreated events', () => {
  let directory: string;
  let emulator: S3Emulator;
  const events: S3rver.EventRecord[] = [];

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'chirp-s3-events-'));
    emulator = new S3Emulator({
      directory,
      bucket: 'events-bucket',
      log: () => undefined,
      onEvent: (record) => events.push(record),
    });
    await emulator.start();
  });

  afterAll(async () => {
    await emulator.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('the emulator’s records parse with S3Schema, their keys encoded as S3 encodes them', async () => {
    const s3 = new S3Client({
      endpoint: emulator.endpoint,
      region: REGION,
      credentials: S3RVER_CREDENTIALS,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const key = 'uploads/My Photo été 🐦 (1).jpg';
    await s3.send(
      new PutObjectCommand({ Bucket: 'events-bucket', Key: key, Body: Buffer.from('bytes') }),
    );
    s3.destroy();
    const raw = await eventually('the S3 event', () => events.find((e) => e.s3.object.key === key));
    const event: S3Event = { Records: [toAwsRecord(raw, REGION)] };
    const parsed = S3Schema.parse(event);
    const encoded = parsed.Records[0]?.s3.object.key;
    expect(encoded).toBe('uploads/My+Photo+%C3%A9t%C3%A9+%F0%9F%90%A6+%281%29.jpg');
    expect(uploadsFromS3Event(event)).toEqual([{ bucket: 'events-bucket', key, size: 5 }]);
  });

  it('AWS’s sample, keys with spaces and unicode: parsed, decoded, and handled by the transcoder', async () => {
    applyServiceEnv();
    const bucket = serviceEnv()[ENV.mediaBucket] as string;
    const sample = s3ObjectCreatedSample(bucket, [
      'uploads/Happy+Face+%C3%A9t%C3%A9.jpg',
      'uploads/%F0%9F%90%A6+bird.png',
      'other/ignored.jpg',
    ]);
    expect(() => S3Schema.parse(sample)).not.toThrow();
    expect(uploadsFromS3Event(sample).map((u) => u.key)).toEqual([
      'uploads/Happy Face été.jpg',
      'uploads/🐦 bird.png',
    ]);
    // Both reach processing (decoded), are not media ids of ours, and end without a retry.
    const { handler } = await import('../../lambdas/events/transcoder');
    await expect(handler(sample)).resolves.toEqual({ processed: 2 });
  });
});

describe('DynamoDB stream records', () => {
  let redis: Redis;

  beforeAll(() => {
    applyServiceEnv();
    redis = new Redis(Number(process.env[STACK_ENV.redisPort]), '127.0.0.1', {
      lazyConnect: true,
    });
  });

  afterAll(() => redis.disconnect());

  async function streamRecordsFor(tweetId: string): Promise<StreamRecordOut[]> {
    const env = serviceEnv();
    const config = {
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
      },
    };
    const dynamo = new DynamoDBClient(config);
    const streams = new DynamoDBStreamsClient(config);
    try {
      const table = await dynamo.send(
        new DescribeTableCommand({ TableName: env[ENV.tweetsTable] }),
      );
      const streamArn = table.Table?.LatestStreamArn as string;
      const stream = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      const found: StreamRecordOut[] = [];
      for (const shard of stream.StreamDescription?.Shards ?? []) {
        let iterator = (
          await streams.send(
            new GetShardIteratorCommand({
              StreamArn: streamArn,
              ShardId: shard.ShardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }),
          )
        ).ShardIterator;
        for (let page = 0; iterator !== undefined && page < 50; page++) {
          const result = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
          found.push(
            ...(result.Records ?? []).filter((r) => r.dynamodb?.Keys?.tweet_id?.S === tweetId),
          );
          if ((result.Records ?? []).length === 0) break;
          iterator = result.NextShardIterator;
        }
      }
      return found.map((record) => ({ ...record, eventSourceARN: streamArn }));
    } finally {
      dynamo.destroy();
      streams.destroy();
    }
  }

  it('the records the stream pump hands to the fanout parse with DynamoDBStreamSchema', async () => {
    const user = newUser('stream-shape');
    const created = await user.createTweet({ text: 'on the stream' });
    expect(created.status).toBe(201);
    const id = created.body.tweet_id;
    expect((await user.deleteTweet(id)).status).toBe(204);
    const records = await eventually('INSERT and REMOVE on the stream', async () => {
      const found = await streamRecordsFor(id);
      return found.length >= 2 ? found : undefined;
    });
    const env = serviceEnv();
    const event: DynamoDBStreamEvent = {
      Records: records.map((record) =>
        toLambdaRecord(
          record,
          lambdaStreamArn(
            String((record as { eventSourceARN?: string }).eventSourceARN),
            env.AWS_REGION!,
          ),
          env.AWS_REGION!,
        ),
      ),
    };
    const parsed = DynamoDBStreamSchema.parse(event);
    expect(parsed.Records.map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
    expect(parsed.Records[0]?.dynamodb.NewImage?.text).toBe('on the stream');
  });

  it('AWS’s sample batch, INSERT, MODIFY and REMOVE mixed, is fanned out in order', async () => {
    const user = newUser('stream-sample');
    const index = timelineKeys.homeTimeline(user.id);
    // Built empty, the timeline gets its first chunk from the first tweet fanned out to it, and a
    // few entries stay in that one chunk.
    const timeline = timelineKeys.timelineChunk(user.id, 1);
    // The author's timeline is built before the tweets exist (the fanout adds only to existing
    // timelines), so the tweets below reach it through the stream pump's fanout.
    await eventually('the author’s timeline built', async () => {
      await user.timeline();
      return (await redis.zscore(index, TIMELINE_SENTINEL)) !== null ? true : undefined;
    });
    const kept = (await user.createTweet({ text: 'stays' })).body.tweet_id;
    const inserted = (await user.createTweet({ text: 'inserted by the sample' })).body.tweet_id;
    await eventually('both tweets fanned out', async () => {
      const scores = await Promise.all([
        redis.zscore(timeline, timelineMember(kept)),
        redis.zscore(timeline, timelineMember(inserted)),
      ]);
      return scores.every((s) => s !== null) ? true : undefined;
    });
    // Every entry is set up as DynamoDB has it after the sample, so a timeline rebuild at any
    // moment (another reader) gives the same result, and the handler's own work is what is checked:
    // - `inserted` is a real tweet taken out of the timeline: only the sample's INSERT puts it back;
    // - `removed` is in the timeline but not in DynamoDB (as after a delete): only the sample's
    //   REMOVE takes it out (same author, a few ms after `kept`).
    const last = kept.charAt(9) === 'Z' ? 'Y' : 'Z';
    const removed = `${kept.slice(0, 9)}${last}${kept.slice(10)}`;
    await redis.zrem(timeline, timelineMember(inserted));
    await redis.zadd(timeline, tweetTime(removed), timelineMember(removed));
    const sample = tweetStreamSample(user.id, [
      { eventName: 'INSERT', tweetId: inserted },
      { eventName: 'MODIFY', tweetId: kept },
      { eventName: 'REMOVE', tweetId: removed },
      { eventName: 'MODIFY', tweetId: inserted },
    ]);
    expect(() => DynamoDBStreamSchema.parse(sample)).not.toThrow();
    const { handler } = await import('../../lambdas/events/fanout');
    await expect(handler(sample)).resolves.toEqual({ batchItemFailures: [] });
    expect(await redis.zscore(timeline, timelineMember(inserted))).not.toBeNull();
    expect(await redis.zscore(timeline, timelineMember(kept))).not.toBeNull();
    expect(await redis.zscore(timeline, timelineMember(removed))).toBeNull();
  });
});

describe('the sweeper’s schedule', () => {
  it('AWS’s scheduled event parses with EventBridgeSchema and runs a sweep', async () => {
    expect(EventBridgeSchema.parse(scheduledEventSample)['detail-type']).toBe('Scheduled Event');
    applyServiceEnv();
    const { handler } = await import('../../lambdas/events/media-sweeper');
    await expect(handler()).resolves.toBeDefined();
  });
});
