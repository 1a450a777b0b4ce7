import './setup-env';
import { expect } from '@jest/globals';
import { METADATA_KEYS } from '../../app/model';
import { sweepMedia } from '../../lambdas/transcoder/sweeper';
import {
  getRecord,
  listKeys,
  putMedia,
  putObject,
  useMediaHarness,
  type MediaHarness,
} from './harness';

const harness = useMediaHarness();
let h: MediaHarness;
beforeAll(() => {
  h = harness();
});

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

describe('sweepMedia', () => {
  it('fails media stuck in processing, and leaves recent claims alone', async () => {
    const processing = (startedAt: string) => ({
      content_type: 'image/png',
      size_bytes: 10,
      status: 'processing' as const,
      gsi1pk: METADATA_KEYS.processingIndex.pk,
      gsi1sk: startedAt,
    });
    const stuck = await putMedia(processing(ago(20 * 60)));
    const live = await putMedia(processing(ago(60)));

    await sweepMedia(h.deps(), { stuckAfterSeconds: 900 });

    expect(await getRecord(stuck.media_id)).toMatchObject({
      status: 'failed',
      failure: { code: 'processing_timeout', message: expect.any(String) },
    });
    expect((await getRecord(stuck.media_id))!.gsi1pk).toBeUndefined();
    expect(await getRecord(live.media_id)).toMatchObject({ status: 'processing' });
  });

  it('removes media never attached (record, upload and outputs), and nothing else', async () => {
    const old = ago(25 * 3600);
    const expired = await putMedia({
      content_type: 'image/png',
      size_bytes: 3,
      status: 'ready',
      created_at: old,
    });
    const attached = await putMedia({
      content_type: 'image/png',
      size_bytes: 3,
      status: 'ready',
      created_at: old,
      tweet_id: 'some-tweet',
    });
    // Attaching removes the media from the unattached index.
    delete (attached as { gsi2pk?: string }).gsi2pk;
    delete (attached as { gsi2sk?: string }).gsi2sk;
    await putMedia(attached);
    const fresh = await putMedia({ content_type: 'image/png', size_bytes: 3 });
    for (const record of [expired, attached, fresh]) {
      await putObject(h.bucket, record.upload_key, Buffer.from('abc'));
      await putObject(h.bucket, `media/${record.media_id}/0123/large.webp`, Buffer.from('x'));
    }

    const result = await sweepMedia(h.deps());

    expect(result.removed).toBeGreaterThanOrEqual(1);
    expect(await getRecord(expired.media_id)).toBeUndefined();
    expect(await listKeys(h.bucket, `media/${expired.media_id}/`)).toEqual([]);
    expect(await listKeys(h.bucket, expired.upload_key)).toEqual([]);
    for (const kept of [attached, fresh]) {
      expect(await getRecord(kept.media_id)).toBeDefined();
      expect(await listKeys(h.bucket, `media/${kept.media_id}/`)).toHaveLength(1);
      expect(await listKeys(h.bucket, kept.upload_key)).toHaveLength(1);
    }
  });
});
