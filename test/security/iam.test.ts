/**
 * IAM on the local stack: every function runs with credentials of its own, and each call it makes
 * to DynamoDB or S3 is authorized against its role policy exactly as `cdk synth` emits it
 * (local/iam/). A denied call fails as on AWS, so these tests catch grants that only AWS would
 * refuse:
 * - the mechanism: a function's credentials can do what its role allows and nothing else, with
 *   AWS's error shapes (DynamoDB AccessDeniedException, S3 403 AccessDenied), and a request
 *   signed with the wrong secret is refused;
 * - four code paths whose grants were missing (each test fails without its grant in
 *   app/model.ts): the media sweeper listing a media's variants, an idempotent CreateTweet replay
 *   that misses the cache, GetTimeline clearing a stale-timeline mark, and InitMedia's recovery
 *   read after a retried write.
 */
import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { ENV, LIMITS, METADATA_KEYS } from '../../app/model';
import { tweetCacheKey } from '../../lambdas/core/tweets/store';
import { followKeys } from '../../lambdas/core/follows/store-cache';
import { initMedia } from '../../lambdas/core/media/upload';
import { documentStore } from '../../lambdas/platform/document-store';
import { newUser, eventually } from '../support/api-client';
import { invokeFunction, serviceEnv } from '../support/env';
import { stackClients } from './state';

const admin = stackClients();
const { tables, bucket } = admin;
const sdk = import('../../lambdas/platform/aws-sdk');
const opened = [admin];
const as = (functionId: string) => {
  const clients = stackClients(functionId);
  opened.push(clients);
  return clients;
};
let redis: Redis;

beforeAll(() => {
  redis = new Redis(serviceEnv()[ENV.redisUrl] as string, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  for (const clients of opened) clients.close();
  await redis.quit();
});

const mediaId = () =>
  [...randomBytes(26)].map((b) => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.charAt(b % 32)).join('');

describe('each function may do what its synthesized role allows, and nothing else', () => {
  it('DynamoDB: a read-only function cannot write, with AWS error shape', async () => {
    const getMedia = as('GetMedia');
    const key = METADATA_KEYS.media(mediaId());
    await expect(
      getMedia.dynamo.send(new GetCommand({ TableName: tables.metadata, Key: key })),
    ).resolves.toBeDefined();
    const write = getMedia.dynamo.send(
      new PutCommand({ TableName: tables.metadata, Item: { ...key, status: 'ready' } }),
    );
    await expect(write).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(
        /^User: arn:aws:sts::\d{12}:assumed-role\/\S+\/chirp-local-GetMedia is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:[^:]+:\d{12}:table\/chirp-metadata because no identity-based policy allows the dynamodb:PutItem action$/,
      ),
    });
    // Nothing was written.
    const { Item } = await admin.dynamo.send(
      new GetCommand({ TableName: tables.metadata, Key: key, ConsistentRead: true }),
    );
    expect(Item).toBeUndefined();
  });

  it('DynamoDB: a function with no grant on a table cannot read it', async () => {
    await expect(
      as('InitMedia').dynamo.send(
        new GetCommand({ TableName: tables.tweets, Key: { user_id: 'x', tweet_id: 'y' } }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('DynamoDB: an item grant holds only for its partition key prefix (dynamodb:LeadingKeys)', async () => {
    const getTimeline = as('GetTimeline');
    const update = (key: Record<string, string>) =>
      getTimeline.dynamo.send(
        new UpdateCommand({
          TableName: tables.metadata,
          Key: key,
          UpdateExpression: 'REMOVE timeline_stale_at',
        }),
      );
    await expect(update(METADATA_KEYS.profile(`iam-${mediaId()}`))).resolves.toBeDefined();
    await expect(update(METADATA_KEYS.media(mediaId()))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(
      as('InitMedia').dynamo.send(
        // InitMedia reads USER# (its caller's profile), MEDIA# and QUOTA#; nothing else.
        new GetCommand({
          TableName: tables.metadata,
          Key: METADATA_KEYS.idempotency('someone', 'key'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('S3: grants are per prefix, and a denial is S3 403 AccessDenied', async () => {
    const transcoder = as('Transcoder');
    const id = mediaId();
    await transcoder.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `staged/${id}/0/x.webp`, Body: 'x' }),
    );
    for (const key of [`uploads/${id}`, `media/${id}/0/x.webp`]) {
      // Not the originals, and not what the CDN serves: only the media publisher writes that.
      await expect(
        transcoder.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
        message: expect.stringContaining(`s3:PutObject on resource: arn:aws:s3:::${bucket}/${key}`),
      });
    }
    await as('MediaPublisher').s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: `media/${id}/0/x.webp`,
        CopySource: `${bucket}/staged/${id}/0/x.webp`,
      }),
    );
    await expect(
      as('GetTweet').s3.send(new GetObjectCommand({ Bucket: bucket, Key: `media/${id}/0/x.webp` })),
    ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(
      as('GetTweet').s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'media/' })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('a request signed with the wrong secret is refused before any authorization', async () => {
    const env = serviceEnv();
    const forged = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
        region: env.AWS_REGION,
        credentials: { accessKeyId: 'LOCALFNGETMEDIA', secretAccessKey: 'not-its-secret' },
        maxAttempts: 1,
      }),
    );
    try {
      await expect(
        forged.send(
          new GetCommand({ TableName: tables.metadata, Key: METADATA_KEYS.media(mediaId()) }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    } finally {
      forged.destroy();
    }
  });
});

describe('grants the code paths need (each fails without its grant in app/model.ts)', () => {
  it('the media sweeper removes a never-attached media: it may list its variants', async () => {
    const id = mediaId();
    const createdAt = new Date(
      Date.now() - (LIMITS.unattachedMediaTtlSeconds + 3600) * 1000,
    ).toISOString();
    await admin.dynamo.send(
      new PutCommand({
        TableName: tables.metadata,
        Item: {
          ...METADATA_KEYS.media(id),
          media_id: id,
          owner_id: 'iam-tester',
          status: 'ready',
          content_type: 'image/png',
          size_bytes: 3,
          alt_text: null,
          upload_key: `uploads/${id}`,
          created_at: createdAt,
          updated_at: createdAt,
          expires_at: Math.floor(Date.parse(createdAt) / 1000) + LIMITS.unattachedMediaTtlSeconds,
          gsi2pk: METADATA_KEYS.unattachedIndex.pk,
          gsi2sk: createdAt,
        },
      }),
    );
    const variant = `media/${id}/0123456789abcdef/large.webp`;
    await admin.s3.send(new PutObjectCommand({ Bucket: bucket, Key: variant, Body: 'x' }));
    const staged = `staged/${id}/0123456789abcdef/large.webp`;
    await admin.s3.send(new PutObjectCommand({ Bucket: bucket, Key: staged, Body: 'x' }));

    await invokeFunction('MediaSweeper');

    const { Item } = await admin.dynamo.send(
      new GetCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.media(id),
        ConsistentRead: true,
      }),
    );
    expect(Item).toBeUndefined();
    for (const prefix of [`media/${id}/`, `staged/${id}/`]) {
      const left = await admin.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
      );
      expect({ prefix, left: left.Contents ?? [] }).toEqual({ prefix, left: [] });
    }
  });

  it('an idempotent CreateTweet replay that misses the cache reads the tweet back (200)', async () => {
    const alice = newUser('iam-replay');
    const idempotencyKey = `k-${mediaId()}`;
    const first = await alice.createTweet({ text: 'once' }, idempotencyKey);
    expect(first.status).toBe(201);
    await redis.del(tweetCacheKey(first.body.tweet_id));

    const replay = await alice.createTweet({ text: 'once' }, idempotencyKey);

    expect(replay.status).toBe(200);
    expect(replay.body.tweet_id).toBe(first.body.tweet_id);
  });

  it('GetTimeline clears the stale-timeline mark once it has rebuilt the timeline', async () => {
    const bob = newUser('iam-stale');
    expect((await bob.timeline()).status).toBe(200);
    const profile = { TableName: tables.metadata, Key: METADATA_KEYS.profile(bob.id) };
    // As a follow whose Redis work failed leaves it; the follow graph is then read from DynamoDB.
    await admin.dynamo.send(
      new UpdateCommand({
        ...profile,
        UpdateExpression: 'SET user_id = :user, timeline_stale_at = :at',
        ExpressionAttributeValues: { ':user': bob.id, ':at': new Date().toISOString() },
      }),
    );
    await redis.del(followKeys.followGraph(bob.id));

    expect((await bob.timeline()).status).toBe(200);

    await eventually('the stale mark to be cleared', async () => {
      const { Item } = await admin.dynamo.send(
        new GetCommand({ ...profile, ConsistentRead: true }),
      );
      return Item?.timeline_stale_at === undefined ? true : undefined;
    });
  });

  it('InitMedia recognises its own record after a retried write (it may read media records)', async () => {
    const initMediaClients = as('InitMedia');
    const loaded = { sdk: await sdk, client: initMediaClients.dynamo };
    const store = documentStore(() => Promise.resolve(loaded));
    // Mocked: the SDK retrying a write that DynamoDB applied but whose answer was lost cannot be
    // produced on demand locally, so this store sends the put twice, as that retry does.
    const dynamo = {
      ...store,
      put: async (input: Parameters<typeof store.put>[0]) => {
        await store.put(input);
        return store.put(input);
      },
    };

    const created = await initMedia(
      { dynamo, s3: initMediaClients.s3, tables, bucket },
      'iam-tester',
      { content_type: 'image/png', size_bytes: 10, alt_text: null },
    );

    expect(created.status).toBe('pending_upload');
    const { Item } = await admin.dynamo.send(
      new GetCommand({
        TableName: tables.metadata,
        Key: METADATA_KEYS.media(created.media_id),
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ owner_id: 'iam-tester', status: 'pending_upload' });
  });
});
