import { decodeS3Key, uploadsFromS3Event } from '../../lambdas/transcoder/s3-event';

const record = (key: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'eu-west-1',
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: 'media', arn: 'arn:aws:s3:::media' }, object: { key, size: 42 } },
  ...extra,
});

describe('uploadsFromS3Event', () => {
  it('decodes keys as S3 encodes them, with + for spaces', () => {
    expect(decodeS3Key('uploads/a+b%2Bc%20d')).toBe('uploads/a b+c d');
    expect(uploadsFromS3Event({ Records: [record('uploads/01ABC')] })).toEqual([
      { bucket: 'media', key: 'uploads/01ABC', size: 42 },
    ]);
  });

  it('keeps only ObjectCreated records under uploads/', () => {
    const event = {
      Records: [
        record('media/01ABC/x/large.webp'),
        record('uploads/01ABC', { eventName: 'ObjectRemoved:Delete' }),
        record('uploads/01DEF'),
      ],
    };
    expect(uploadsFromS3Event(event).map((u) => u.key)).toEqual(['uploads/01DEF']);
  });

  it('skips malformed records instead of throwing', () => {
    for (const event of [
      null,
      undefined,
      'x',
      {},
      { Records: {} },
      { Records: [null, 7, {}, { eventName: 'ObjectCreated:Put', s3: {} }] },
      { Records: [record('uploads/%E0%A4%A')] },
      { Records: [record('uploads/x', { s3: { bucket: { name: 1 }, object: { key: 'k' } } })] },
    ]) {
      expect(uploadsFromS3Event(event)).toEqual([]);
    }
  });
});
