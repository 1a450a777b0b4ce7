/**
 * Media detached by its tweet's delete is never made ready (the publisher would otherwise publish
 * a deleted tweet's media): not when the delete comes before the upload is claimed, and not when
 * it lands while the transcoder is already writing variants. Real DynamoDB Local, S3 emulator,
 * sharp; the delete is written at the moment the first variant is stored (an S3 client hook).
 */
import './setup-env';
import { readFileSync } from 'node:fs';
import { S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../app/model';
import { processUpload } from '../../lambdas/transcoder/process-upload';
import { twoToneImage } from './fixtures';
import {
  dynamo,
  getRecord,
  listKeys,
  putMedia,
  putObject,
  tables,
  useMediaHarness,
  type MediaHarness,
} from './harness';

const harness = useMediaHarness();
let h: MediaHarness;
beforeAll(() => {
  h = harness();
});

/** What DeleteTweet's detachMedia writes. */
async function detach(mediaId: string, tweetId: string): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: tables.metadata,
      Key: METADATA_KEYS.media(mediaId),
      UpdateExpression: 'SET detached_at = :now REMOVE tweet_id',
      ConditionExpression: 'tweet_id = :tweet',
      ExpressionAttributeValues: { ':now': new Date().toISOString(), ':tweet': tweetId },
    }),
  );
}

async function attachedUpload(name: string) {
  const png = readFileSync(await twoToneImage(120, 80, 'png', h.tmp.file(name)));
  const tweetId = `tweet-${name}`;
  const record = await putMedia({
    content_type: 'image/png',
    size_bytes: png.length,
    tweet_id: tweetId,
  });
  await putObject(h.bucket, record.upload_key, png);
  return { record, tweetId, event: { bucket: h.bucket, key: record.upload_key } };
}

describe('media detached by a tweet delete', () => {
  it('is failed, not processed, when the delete came first', async () => {
    const { record, tweetId, event } = await attachedUpload('before.png');
    await detach(record.media_id, tweetId);

    const outcome = await processUpload(h.deps(), event);

    expect(outcome).toMatchObject({ status: 'failed', code: 'tweet_deleted' });
    expect(await getRecord(record.media_id)).toMatchObject({
      status: 'failed',
      failure: { code: 'tweet_deleted' },
    });
    expect(await listKeys(h.bucket, `staged/${record.media_id}/`)).toEqual([]);
  });

  it('is failed, not ready, when the delete lands while variants are being written', async () => {
    const { record, tweetId, event } = await attachedUpload('during.png');
    // Configured as the functions' client (lambdas/platform/s3-client.ts), plus the hook.
    const hooked = new S3Client({
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    let detached = false;
    hooked.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Partial<PutObjectCommandInput>;
        if (
          context.commandName === 'PutObjectCommand' &&
          input.Key?.startsWith('staged/') &&
          !detached
        ) {
          detached = true;
          await detach(record.media_id, tweetId);
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const outcome = await processUpload(h.deps({ s3: hooked }), event);

      expect(detached).toBe(true);
      expect(outcome).toMatchObject({ status: 'failed', code: 'tweet_deleted' });
      const final = await getRecord(record.media_id);
      expect(final).toMatchObject({ status: 'failed', failure: { code: 'tweet_deleted' } });
      expect(final?.gsi1pk).toBeUndefined();
    } finally {
      hooked.destroy();
    }
  });
});
