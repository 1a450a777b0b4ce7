/**
 * The local stream pump batches as the function's event source declares (app/model.ts, which the
 * CDK mapping reads too): batch size, and a batching window only when one is declared. Runs
 * against the stack's DynamoDB Local, on a table of its own; batches are captured at the delivery
 * seam, so no function runs.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamSourceSpec } from '../../app/model';
import { startStreamPump, type StreamPump } from '../../local/stream-pump';
import { eventually } from '../support/api-client';
import { serviceEnv } from '../support/env';

const env = serviceEnv();
// DynamoDB Local itself (the API endpoint is the IAM-enforcing proxy, which knows only the model's
// tables); the stack's credentials.
const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS ?? '';
const region = env.AWS_REGION ?? '';
const credentials = {
  accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
};
const dynamo = new DynamoDBClient({ endpoint, region, credentials });

interface Batch {
  readonly keys: string[];
  readonly at: number;
}

let pump: StreamPump | undefined;
let batches: Batch[] = [];
/** A table of each test's own, so no pump sees another test's records. */
let tableName = '';

async function startPump(streamSource: StreamSourceSpec): Promise<void> {
  batches = [];
  tableName = `pump-test-${randomBytes(4).toString('hex')}`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  pump = await startStreamPump({
    tableName,
    fn: { id: 'PumpTest', entry: 'never/invoked.ts', access: {}, streamSource },
    endpoint,
    region,
    credentials,
    log: () => undefined,
    deliverBatch: (_invoke, event: DynamoDBStreamEvent) => {
      batches.push({
        keys: event.Records.map((record) => record.dynamodb?.Keys?.pk?.S ?? ''),
        at: Date.now(),
      });
      return Promise.resolve();
    },
  });
}

const put = (pk: string) =>
  dynamo.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk } } }));

const delivered = () => batches.flatMap((batch) => batch.keys);

afterEach(async () => {
  await pump?.stop();
  pump = undefined;
  await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
});

afterAll(() => dynamo.destroy());

describe('the local stream pump', () => {
  it('without a batching window, invokes as soon as a poll returns records', async () => {
    await startPump({ batchSize: 100, maxBatchingWindowSeconds: 0 });
    await put('now-1');
    await eventually('the first record', () => (batches.length > 0 ? true : undefined));
    // Nothing was held back for a second record.
    expect(batches[0]?.keys).toEqual(['now-1']);
    await put('now-2');
    await eventually('the second record', () => (batches.length > 1 ? true : undefined));
    expect(batches.map((batch) => batch.keys)).toEqual([['now-1'], ['now-2']]);
  });

  it('with a batching window, holds records until the window passes and delivers them together', async () => {
    await startPump({ batchSize: 100, maxBatchingWindowSeconds: 2 });
    const written = Date.now();
    await put('held-1');
    await new Promise((r) => setTimeout(r, 300));
    await put('held-2');
    await eventually('the held batch', () => (batches.length > 0 ? true : undefined), 15_000);
    expect(batches[0]?.keys).toEqual(['held-1', 'held-2']);
    // The window starts when the pump reads the first record, after it was written.
    expect((batches[0]?.at ?? 0) - written).toBeGreaterThanOrEqual(2000);
  });

  it('delivers a full batch without waiting for the window, in stream order', async () => {
    await startPump({ batchSize: 3, maxBatchingWindowSeconds: 30 });
    const keys = ['full-1', 'full-2', 'full-3', 'full-4'];
    for (const key of keys) await put(key);
    // Within 15 s: the 30 s window did not hold the full batch back.
    await eventually('a full batch', () => (batches.length > 0 ? true : undefined), 15_000);
    expect(batches[0]?.keys).toEqual(['full-1', 'full-2', 'full-3']);
    // The fourth waits out its own window; nothing was delivered twice.
    expect(delivered()).toEqual(['full-1', 'full-2', 'full-3']);
  });
});
