import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { ENV, TABLES } from '../../app/model';
import { restartRedis, serviceEnv, stackStatus } from '../support/env';

describe('local services from the global setup', () => {
  const env = serviceEnv();

  it('creates every model table with its stream view', async () => {
    const client = new DynamoDBClient({
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region: env.AWS_REGION,
    });
    try {
      for (const schema of TABLES) {
        const { Table } = await client.send(
          new DescribeTableCommand({ TableName: env[schema.envVar] }),
        );
        expect(Table?.StreamSpecification?.StreamViewType).toBe(schema.stream);
        expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(
          schema.globalIndexes.map((i) => i.indexName).sort(),
        );
      }
    } finally {
      client.destroy();
    }
  });

  it('serves the media bucket with signed requests', async () => {
    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL_S3,
      region: env.AWS_REGION,
      forcePathStyle: true,
    });
    const Bucket = env[ENV.mediaBucket];
    await s3.send(new PutObjectCommand({ Bucket, Key: 'media/test/a b.txt', Body: 'hello' }));
    const object = await s3.send(new GetObjectCommand({ Bucket, Key: 'media/test/a b.txt' }));
    await expect(object.Body?.transformToString()).resolves.toBe('hello');
    s3.destroy();
  });

  it('answers bucket-level requests (list, batch delete) and still rejects bad signatures', async () => {
    const config = {
      endpoint: env.AWS_ENDPOINT_URL_S3,
      region: env.AWS_REGION,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    };
    const s3 = new S3Client(config);
    const forger = new S3Client({
      ...config,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: 'not-the-secret',
      },
    });
    const Bucket = env[ENV.mediaBucket];
    const Prefix = `media/list-test-${Date.now()}/`;
    await s3.send(new PutObjectCommand({ Bucket, Key: `${Prefix}one`, Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: `${Prefix}two`, Body: '2' }));
    await expect(forger.send(new ListObjectsV2Command({ Bucket, Prefix }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${Prefix}one`, `${Prefix}two`]);
    await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: `${Prefix}one` }, { Key: `${Prefix}two` }] },
      }),
    );
    expect((await s3.send(new ListObjectsV2Command({ Bucket, Prefix }))).KeyCount).toBe(0);
    s3.destroy();
    forger.destroy();
  });

  it('restarts redis empty', async () => {
    const redis = new Redis(env[ENV.redisUrl] as string, { maxRetriesPerRequest: 1 });
    await redis.set('chirp-test:marker', '1');
    const before = (await stackStatus()).redis.pid;
    const after = await restartRedis();
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before);
    // ioredis reconnects by itself; the restarted server has nothing.
    await expect(redis.get('chirp-test:marker')).resolves.toBeNull();
    // Still a one-node cluster owning every slot, like ElastiCache Serverless (cluster mode only).
    expect(await redis.info('cluster')).toMatch(/^cluster_enabled:1\r?$/m);
    expect(String(await redis.call('CLUSTER', 'INFO'))).toMatch(/^cluster_state:ok\r?$/m);
    redis.disconnect();
  });
});
