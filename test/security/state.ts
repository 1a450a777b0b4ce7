/**
 * Reads the stored state that belongs to some users straight from DynamoDB Local and the S3
 * emulator of the test stack, so a test can prove a request changed nothing: their tweets, every
 * metadata item naming them (profile, follow edges in both directions, idempotency records, media
 * they own) and the upload objects of their media.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV, MEDIA_PREFIXES } from '../../app/model';
import { functionCredentials } from '../../local/iam/enforcer';
import { serviceEnv } from '../support/env';

export interface StateReader {
  snapshot(userIds: readonly string[]): Promise<string>;
  close(): void;
}

/** SDK clients pointed at the test stack's DynamoDB Local and S3 emulator, and its names. */
export interface StackClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly tables: { readonly tweets: string; readonly metadata: string };
  readonly bucket: string;
  readonly close: () => void;
}

/**
 * Clients signed with the emulators' own credentials (the operator: anything goes), or, with
 * `asFunction`, as that function of the app model, whose calls the stack authorizes against its
 * synthesized role policy exactly as it authorizes the function's own.
 */
export function stackClients(asFunction?: string): StackClients {
  const env = serviceEnv();
  const credentials =
    asFunction === undefined
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
        }
      : functionCredentials(asFunction);
  const region = env.AWS_REGION ?? 'us-east-1';
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region, credentials }),
  );
  const s3 = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL_S3,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    dynamo,
    s3,
    tables: { tweets: env[ENV.tweetsTable] ?? '', metadata: env[ENV.metadataTable] ?? '' },
    bucket: env[ENV.mediaBucket] ?? '',
    close: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

export function stateReader(): StateReader {
  const clients = stackClients();
  const { dynamo, s3, bucket } = clients;
  const tweetsTable = clients.tables.tweets;
  const metadataTable = clients.tables.metadata;

  const tweetsOf = async (userId: string) => {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: tweetsTable,
        KeyConditionExpression: 'user_id = :u',
        ExpressionAttributeValues: { ':u': userId },
        ConsistentRead: true,
      }),
    );
    return out.Items ?? [];
  };

  /** Every metadata item whose key or owner names one of the users (a scan: the table is small). */
  const metadataOf = async (userIds: readonly string[]) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: metadataTable,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const text = `${String(item.pk)} ${String(item.sk)} ${String(item.owner_id ?? '')}`;
        if (userIds.some((user) => text.includes(user))) items.push(item);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  };

  const uploadsOf = async (mediaIds: readonly string[]) =>
    Promise.all(
      mediaIds.map(async (id) => {
        const key = `${MEDIA_PREFIXES.uploads}${id}`;
        try {
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return `${key} ${head.ContentLength} ${head.ETag}`;
        } catch (error) {
          if (
            (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
          ) {
            return `${key} absent`;
          }
          throw error;
        }
      }),
    );

  const sortKey = (item: Record<string, unknown>) =>
    `${String(item.pk ?? item.user_id)}|${String(item.sk ?? item.tweet_id)}`;

  return {
    async snapshot(userIds) {
      const tweets = (await Promise.all(userIds.map(tweetsOf))).flat();
      const metadata = await metadataOf(userIds);
      const mediaIds = metadata
        .filter((item) => typeof item.media_id === 'string')
        .map((item) => String(item.media_id));
      const uploads = await uploadsOf(mediaIds);
      const sorted = (items: Record<string, unknown>[]) =>
        [...items].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
      return JSON.stringify(
        { tweets: sorted(tweets), metadata: sorted(metadata), uploads: uploads.sort() },
        null,
        1,
      );
    },
    close: clients.close,
  };
}
