/**
 * AWS's own sample events (the shapes in the Lambda developer guide's "Using Lambda with Amazon S3",
 * "Using Lambda with DynamoDB" and "EventBridge Scheduler / scheduled rule" pages), with Chirp's bucket,
 * table keys and ids filled in. Only the values that name our resources differ from the samples.
 */
import type { DynamoDBStreamEvent, S3Event, ScheduledEvent } from 'aws-lambda';

export function s3ObjectCreatedSample(bucket: string, encodedKeys: readonly string[]): S3Event {
  return {
    Records: encodedKeys.map((key, index) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-11-25T16:20:31.123Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAINPONIXQXHT3IKHL2' },
      requestParameters: { sourceIPAddress: '205.255.255.255' },
      responseElements: {
        'x-amz-request-id': 'D82B88E5F771F645',
        'x-amz-id-2':
          'vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: '828aa6fc-f7b5-4305-8584-487c791949c1',
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: 'A3I5XTEXAMAI3E' },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          key,
          size: 1305107,
          eTag: 'b21b84d653bb07b05b1e6b33684dc11b',
          sequencer: `0C0F6F405D6ED209E${index}`,
        },
      },
    })),
  };
}

const streamArn =
  'arn:aws:dynamodb:us-east-1:123456789012:table/chirp-Tweets/stream/2026-11-25T00:00:00.000';

type StreamRecord = DynamoDBStreamEvent['Records'][number];

function tweetRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  sequence: number,
  userId: string,
  tweetId: string,
  text: string,
): StreamRecord {
  const keys = { user_id: { S: userId }, tweet_id: { S: tweetId } };
  const image = {
    ...keys,
    text: { S: text },
    created_at: { S: '2026-11-25T16:20:31.123Z' },
    media_ids: { L: [] },
  };
  return {
    eventID: `c4ca4238a0b923820dcc509a6f75849${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1764087631,
      Keys: keys,
      ...(eventName !== 'REMOVE' ? { NewImage: image } : {}),
      ...(eventName !== 'INSERT' ? { OldImage: image } : {}),
      SequenceNumber: `11100000000001234567${sequence}`,
      SizeBytes: 112,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: streamArn,
  };
}

/** A batch as Lambda delivers it: several records, INSERT, MODIFY and REMOVE mixed. */
export function tweetStreamSample(
  userId: string,
  changes: readonly { eventName: 'INSERT' | 'MODIFY' | 'REMOVE'; tweetId: string }[],
): DynamoDBStreamEvent {
  return {
    Records: changes.map((change, index) =>
      tweetRecord(change.eventName, index + 1, userId, change.tweetId, `sample ${index + 1}`),
    ),
  };
}

export const scheduledEventSample: ScheduledEvent = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-25T16:15:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/chirp-MediaSweeperSchedule'],
  detail: {},
};
