/**
 * Media tests against the real local services: DynamoDB Local (the stack's metadata table), the S3
 * emulator (a bucket of this test file's own, so the stack's own transcoder ignores its events)
 * and Redis. Media records are written as POST /v1/media/init writes them.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import type { MediaRecord, ProcessingRecord } from '../../lambdas/core/media/store';
import { invalidateCachedTweet } from '../../lambdas/core/tweets/store';
import type { MediaDeps } from '../../lambdas/transcoder/process-upload';
import { dynamo, redis, tables, type CacheClient } from '../../lambdas/platform/clients';
import { cacheOver } from '../../lambdas/platform/cache';
import { s3 } from '../../lambdas/platform/s3-client';
import { assertLocalMediaToolsBuilt, localMediaTools } from '../../local/media-tools';
import { tempDir } from './fixtures';

export { dynamo, redis, s3, tables };

/** 26 Crockford base32 characters, like the API's media ids. */
export const newId = () =>
  [...randomBytes(26)].map((b) => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.charAt(b % 32)).join('');

export interface MediaHarness {
  readonly bucket: string;
  readonly tmp: ReturnType<typeof tempDir>;
  /** Every ffmpeg/ffprobe command line the pipeline ran, one per line. */
  toolCalls(): string[];
  /** The transcoder's deps; its tweet cache hook drops tweets from `redis` (the stack's). */
  deps(overrides?: Partial<MediaDeps> & { readonly redis?: CacheClient }): MediaDeps;
  close(): void;
}

export async function mediaHarness(): Promise<MediaHarness> {
  assertLocalMediaToolsBuilt();
  const bucket = `media-test-${newId().toLowerCase()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const tmp = tempDir('chirp-media-runs-');
  const tools = tempDir('chirp-media-tools-');
  const log = tools.file('calls.log');
  // Wrappers that record each invocation, then run the real tool (the layer's x86-64 build).
  const real = { ffmpeg: localMediaTools.ffmpegPath, ffprobe: localMediaTools.ffprobePath };
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    writeFileSync(
      tools.file(tool),
      `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexec '${real[tool]}' "$@"\n`,
    );
    chmodSync(tools.file(tool), 0o755);
  }
  return {
    bucket,
    tmp,
    toolCalls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
    deps: ({ redis: client = redis, ...overrides } = {}) => ({
      dynamo,
      s3,
      tables,
      onMediaChanged: (tweetId) => invalidateCachedTweet(cacheOver(client), tweetId),
      bucket,
      tools: {
        ffmpegPath: tools.file('ffmpeg'),
        ffprobePath: tools.file('ffprobe'),
        rlimitExecPath: localMediaTools.rlimitExecPath,
        maxVideoSeconds: 140,
      },
      tmpRoot: tmp.path,
      ...overrides,
    }),
    close: () => {
      tmp.remove();
      tools.remove();
    },
  };
}

/** A media record exactly as init-media writes it, optionally attached or with other fields. */
export async function putMedia(
  fields: Pick<MediaRecord, 'content_type' | 'size_bytes'> & Partial<ProcessingRecord>,
): Promise<ProcessingRecord> {
  const mediaId = fields.media_id ?? newId();
  const createdAt = fields.created_at ?? new Date().toISOString();
  const record: ProcessingRecord = {
    ...METADATA_KEYS.media(mediaId),
    media_id: mediaId,
    owner_id: 'media-tester',
    status: 'pending_upload',
    alt_text: null,
    upload_key: `uploads/${mediaId}`,
    created_at: createdAt,
    updated_at: createdAt,
    expires_at: Math.floor(Date.parse(createdAt) / 1000) + LIMITS.unattachedMediaTtlSeconds,
    gsi2pk: METADATA_KEYS.unattachedIndex.pk,
    gsi2sk: createdAt,
    ...fields,
  };
  await dynamo.send(new PutCommand({ TableName: tables.metadata, Item: record }));
  return record;
}

export async function getRecord(mediaId: string): Promise<ProcessingRecord | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      ConsistentRead: true,
    }),
  );
  return Item as ProcessingRecord | undefined;
}

export async function putObject(bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export async function headObject(bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key ?? '').sort();
}

/** A harness for the whole test file: created before the first test, removed after the last. */
export function useMediaHarness(): () => MediaHarness {
  let harness: MediaHarness | undefined;
  beforeAll(async () => {
    harness = await mediaHarness();
  });
  // test/support/close-clients.ts closes the shared `redis` and `s3`.
  afterAll(() => harness?.close());
  return () => {
    if (!harness) throw new Error('the media harness is not ready yet');
    return harness;
  };
}
