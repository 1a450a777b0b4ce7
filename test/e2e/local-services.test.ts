import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

  it('restarts redis empty', async () => {
    const redis = new Redis(env[ENV.redisUrl] as string, { maxRetriesPerRequest: 1 });
    await redis.set('chirp-test:marker', '1');
    const before = (await stackStatus()).redis.pid;
    const after = await restartRedis();
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before);
    // ioredis reconnects by itself; the restarted server has nothing.
    await expect(redis.get('chirp-test:marker')).resolves.toBeNull();
    redis.disconnect();
  });
});
