// Own code: no maintained library delivers DynamoDB Local streams as Lambda batches with partial-failure reporting (docs/own-code.md).
/**
 * The DynamoDB stream event source mapping, locally: polls every shard of a table's stream on
 * DynamoDB Local, parents before children (so shard rollover keeps order), and delivers batches to
 * a function in the DynamoDBStreamEvent shape. Like the CDK mapping: ReportBatchItemFailures
 * (resume from the first failed record), bisect on a function error, retries with backoff through
 * an outage (no attempt cap by default, as the CDK mapping retries until a record is six hours
 * old), and only after `retryAttempts`, if set, a drop to the failure destination (the log).
 * Batch size and batching window are the function's event source (its `streamSource` in
 * app/model.ts, which the CDK mapping reads too), and it polls each shard four times a second when
 * idle, as Lambda does: the local stack is no faster than AWS at getting a record to its function.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecordOut,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamConsumerSpec } from '../app/model';
import { LocalFunction } from './lambda-runtime';
import type { Log } from './log';
import { LOCAL_ACCOUNT_ID } from './api-gateway';
import { sleep } from './ports';

export interface StreamPumpOptions {
  readonly tableName: string;
  /**
   * With `streamPartitionKeyPrefix`, only records whose partition key (attribute `pk`) starts with
   * it are delivered; the others are dropped without an invocation, as the event source mapping's
   * filter drops them on AWS.
   */
  readonly fn: StreamConsumerSpec & { readonly streamPartitionKeyPrefix?: string };
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly log: Log;
  /**
   * Attempts per batch before its records are dropped to the failure destination.
   * @default unlimited, as the CDK mapping (which retries until a record is six hours old)
   */
  readonly retryAttempts?: number;
  /**
   * Time between the starts of two polls of an idle stream.
   * @default LAMBDA_STREAM_POLL_INTERVAL_MS
   */
  readonly pollIntervalMs?: number;
  /**
   * How a batch reaches the function, for fault injection at the event source mapping (the soak
   * delivers batches twice, or fails them after they ran). @default one invocation
   */
  readonly deliverBatch?: (invoke: BatchInvoke, event: DynamoDBStreamEvent) => Promise<BatchResult>;
}

/** Lambda polls each shard of a DynamoDB stream at a base rate of four times a second. */
export const LAMBDA_STREAM_POLL_INTERVAL_MS = 250;

export type BatchResult = DynamoDBBatchResponse | void;
export type BatchInvoke = (event: DynamoDBStreamEvent) => Promise<BatchResult>;

export interface StreamPump {
  /** Records delivered successfully so far. */
  readonly delivered: number;
  stop(): Promise<void>;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  iterator: string | undefined;
  /** Last record handed to the function successfully (or skipped after its retries). */
  lastSequenceNumber: string | undefined;
  /** Where to start when there is no iterator yet and nothing was read. */
  initialPosition: ShardIteratorType;
  done: boolean;
  /** Records read but held for the batching window, not yet delivered. */
  held: DynamoDBRecord[];
  /** When the first held record was read (the window's start). */
  heldSince: number;
  /** The last record read (held or filtered out): the position once the held batch is delivered. */
  readThrough: string | undefined;
}

/** Lambda's event record: AWS-region ARN, epoch-seconds ApproximateCreationDateTime. */
export function toLambdaRecord(
  record: StreamRecordOut,
  eventSourceARN: string,
  region: string,
): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const created = data.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(created !== undefined
        ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }
        : {}),
      ...(data.Keys !== undefined ? { Keys: data.Keys } : {}),
      ...(data.NewImage !== undefined ? { NewImage: data.NewImage } : {}),
      ...(data.OldImage !== undefined ? { OldImage: data.OldImage } : {}),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
    eventSourceARN,
  } as DynamoDBRecord;
}

/** DynamoDB Local names its region "ddblocal"; Lambda sees the stream ARN of the real region. */
export const lambdaStreamArn = (streamArn: string, region: string): string =>
  streamArn.replace(
    /^arn:aws:dynamodb:[^:]*:[^:]*:/,
    `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:`,
  );

export async function startStreamPump(options: StreamPumpOptions): Promise<StreamPump> {
  const clientConfig = {
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 1,
  };
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const fn = new LocalFunction<DynamoDBStreamEvent, BatchResult>(options.fn, options.region);
  const invoke: BatchInvoke = (event) => fn.invoke(event);
  const deliverBatch = options.deliverBatch ?? ((run, event) => run(event));
  const { batchSize, maxBatchingWindowSeconds } = options.fn.streamSource;
  const batchingWindowMs = maxBatchingWindowSeconds * 1000;
  const retryAttempts = options.retryAttempts ?? Number.POSITIVE_INFINITY;
  const pollIntervalMs = options.pollIntervalMs ?? LAMBDA_STREAM_POLL_INTERVAL_MS;

  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (streamArn === undefined) throw new Error(`Table ${options.tableName} has no stream`);
  const eventSourceARN = lambdaStreamArn(streamArn, options.region);

  const shards = new Map<string, ShardState>();
  let stopped = false;
  let delivered = 0;

  const describeShards = async (): Promise<Shard[]> => {
    const all: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      all.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    return all;
  };

  /** At startup only new records matter (StartingPosition LATEST); later shards are read whole. */
  const discoverShards = async (atStartup: boolean) => {
    for (const shard of await describeShards()) {
      if (shard.ShardId === undefined || shards.has(shard.ShardId)) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      shards.set(shard.ShardId, {
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        iterator: undefined,
        lastSequenceNumber: undefined,
        initialPosition: atStartup ? 'LATEST' : 'TRIM_HORIZON',
        done: atStartup && closed,
        held: [],
        heldSince: 0,
        readThrough: undefined,
      });
    }
  };

  const iteratorFor = async (shard: ShardState): Promise<string | undefined> => {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.shardId,
        ...(shard.lastSequenceNumber !== undefined
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastSequenceNumber }
          : { ShardIteratorType: shard.initialPosition }),
      }),
    );
    return ShardIterator;
  };

  /** Delivers records in order; returns once each is processed or given up on. */
  const deliver = async (records: DynamoDBRecord[], attemptsLeft: number): Promise<void> => {
    let pending = records;
    let attempts = attemptsLeft;
    let retries = 0;
    while (pending.length > 0) {
      let failedFrom: number | undefined;
      try {
        const response = await deliverBatch(invoke, { Records: pending });
        const failures = response?.batchItemFailures ?? [];
        if (failures.length === 0) {
          delivered += pending.length;
          return;
        }
        const failedIds = new Set(failures.map((f) => f.itemIdentifier));
        failedFrom = pending.findIndex((r) => failedIds.has(r.dynamodb?.SequenceNumber ?? ''));
        // An identifier that matches nothing fails the whole batch, as on Lambda.
        if (failedFrom === -1) failedFrom = 0;
        delivered += failedFrom;
        pending = pending.slice(failedFrom);
        options.log(
          `fanout: ${pending.length} record(s) reported failed; retrying from ${pending[0]?.dynamodb?.SequenceNumber}`,
        );
      } catch (error) {
        options.log(
          `fanout: batch of ${pending.length} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (pending.length > 1) {
          // BisectBatchOnFunctionError: halves are retried separately to isolate a poison record.
          const half = Math.ceil(pending.length / 2);
          await deliver(pending.slice(0, half), attempts);
          await deliver(pending.slice(half), attempts);
          return;
        }
      }
      // Stopping ends the retries; the records stay in the stream, unacknowledged.
      if (stopped) return;
      if (attempts <= 0) {
        options.log(
          `fanout: dropping ${pending.length} record(s) after retries (failure destination)`,
        );
        return;
      }
      attempts -= 1;
      // Back off (200 ms doubling, at most 2 s) while an outage lasts. Counted on its own: with
      // unlimited attempts, attemptsLeft - attempts is Infinity - Infinity.
      await sleep(Math.min(200 * 2 ** Math.min(retries, 4), 2000));
      retries += 1;
    }
  };

  /** Reads one batch from the shard; true if it returned records. */
  const pollShard = async (shard: ShardState): Promise<boolean> => {
    try {
      return await readShard(shard);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TrimmedDataAccessException') {
        // DynamoDB Local reports an iterator taken while its shard was empty as trimmed once
        // records arrive, and forgets positions across some restarts. Nothing from this shard
        // has been delivered past lastSequenceNumber, so read it from the oldest record it keeps
        // (records delivered twice are harmless: the fanout is idempotent).
        options.log(
          `stream ${options.tableName}: shard ${shard.shardId} position trimmed; reading from its oldest record`,
        );
        shard.lastSequenceNumber = undefined;
        shard.initialPosition = 'TRIM_HORIZON';
        forgetPosition(shard);
        return false;
      }
      if (name === 'ResourceNotFoundException') {
        options.log(`stream ${options.tableName}: shard ${shard.shardId} is gone`);
        shard.done = true;
        return false;
      }
      throw error;
    }
  };

  /** Reading resumes after lastSequenceNumber: what was read past it is read again. */
  const forgetPosition = (shard: ShardState) => {
    shard.iterator = undefined;
    shard.held = [];
    shard.readThrough = undefined;
  };

  /** Delivers the held batch (if any) and moves the shard's position past what was read. */
  const deliverHeld = async (shard: ShardState) => {
    if (shard.held.length > 0) await deliver(shard.held, retryAttempts);
    shard.held = [];
    if (shard.readThrough !== undefined) shard.lastSequenceNumber = shard.readThrough;
  };

  /** A held batch goes once it is full, its window has passed, or its shard has ended. */
  const heldIsDue = (shard: ShardState, now: number) =>
    shard.held.length >= batchSize ||
    now - shard.heldSince >= batchingWindowMs ||
    shard.iterator === undefined;

  const readShard = async (shard: ShardState): Promise<boolean> => {
    shard.iterator ??= await iteratorFor(shard);
    if (shard.iterator === undefined) {
      shard.done = true;
      return false;
    }
    const output = await streams.send(
      new GetRecordsCommand({
        ShardIterator: shard.iterator,
        Limit: batchSize - shard.held.length,
      }),
    );
    const records = output.Records ?? [];
    const wanted = records
      .map((r) => toLambdaRecord(r, eventSourceARN, options.region))
      .filter((record) => {
        const prefix = options.fn.streamPartitionKeyPrefix;
        return prefix === undefined || (record.dynamodb?.Keys?.pk?.S?.startsWith(prefix) ?? false);
      });
    if (wanted.length > 0 && shard.held.length === 0) shard.heldSince = Date.now();
    shard.held.push(...wanted);
    if (records.length > 0) {
      shard.readThrough = records[records.length - 1]?.dynamodb?.SequenceNumber;
    }
    shard.iterator = output.NextShardIterator;
    if (heldIsDue(shard, Date.now())) await deliverHeld(shard);
    // No next iterator: the shard is closed and fully read; its children take over.
    if (shard.iterator === undefined) shard.done = true;
    return records.length > 0;
  };

  /** How long the loop may sleep before a held batch's window closes. */
  const untilWindowCloses = (now: number): number =>
    Math.min(
      Number.POSITIVE_INFINITY,
      ...[...shards.values()]
        .filter((shard) => shard.held.length > 0)
        .map((shard) => shard.heldSince + batchingWindowMs - now),
    );

  await discoverShards(true);
  // Pin LATEST positions now, so records written after startup are never skipped.
  for (const shard of shards.values()) {
    if (!shard.done) shard.iterator = await iteratorFor(shard);
  }

  const loop = (async () => {
    let lastDiscovery = Date.now();
    let lastError: string | undefined;
    while (!stopped) {
      const pollStarted = Date.now();
      let busy = false;
      try {
        if (Date.now() - lastDiscovery > 1000) {
          await discoverShards(false);
          lastDiscovery = Date.now();
        }
        for (const shard of shards.values()) {
          if (shard.done || stopped) continue;
          const parent =
            shard.parentShardId !== undefined ? shards.get(shard.parentShardId) : undefined;
          if (parent !== undefined && !parent.done) continue;
          // A shard holding a batch is polled at the idle rate until the batch is due.
          if (shard.held.length > 0 && heldIsDue(shard, Date.now())) {
            await deliverHeld(shard);
            busy = true;
          } else if ((await pollShard(shard)) && shard.held.length === 0) busy = true;
        }
      } catch (error) {
        // DynamoDB Local down or restarted, or an expired iterator: get fresh iterators from the
        // last delivered position once it answers again.
        const message = error instanceof Error ? error.message : String(error);
        const name = error instanceof Error ? error.name : 'Error';
        // Once per outage, not every half second.
        if (name !== 'ExpiredIteratorException' && message !== lastError) {
          options.log(`stream ${options.tableName}: ${message} (retrying)`);
        }
        lastError = message;
        for (const shard of shards.values()) forgetPosition(shard);
        await sleep(500);
        continue;
      }
      if (lastError !== undefined) {
        options.log(`stream ${options.tableName}: reading again`);
        lastError = undefined;
      }
      // A poll that returned records is followed by the next at once, as on Lambda; an idle
      // stream is polled at Lambda's base rate, from the start of one poll to the next.
      if (!busy) {
        const now = Date.now();
        const wait = Math.min(pollStarted + pollIntervalMs - now, untilWindowCloses(now));
        if (wait > 0) await sleep(wait);
      }
    }
  })();

  return {
    get delivered() {
      return delivered;
    },
    stop: async () => {
      stopped = true;
      await loop;
      dynamo.destroy();
      streams.destroy();
    },
  };
}
