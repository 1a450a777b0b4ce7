/**
 * DynamoDB stream of the tweets table -> home timelines in Redis. Reports partial batch failures:
 * the first failed record and every record after it, so the retry resumes in order.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fanoutBatch, type TweetChange } from '../domain/fanout';
import { parseTweetId } from '../domain/ids';
import { productionDeps } from '../domain/production-deps';
import { logger } from '../shared/logger';

const deps = productionDeps();

/** The tweet a stream record is about; undefined for records the fanout ignores. */
export function tweetChange(record: DynamoDBRecord): TweetChange | undefined {
  const kind =
    record.eventName === 'INSERT' ? 'insert' : record.eventName === 'REMOVE' ? 'remove' : undefined;
  if (kind === undefined) return undefined; // tweets are immutable; MODIFY changes nothing here
  const author = record.dynamodb?.Keys?.user_id?.S;
  const tweetId = record.dynamodb?.Keys?.tweet_id?.S;
  const key = tweetId === undefined ? undefined : parseTweetId(tweetId);
  if (author === undefined || key === undefined || key.user_id !== author) {
    logger.warn('skipping a stream record that is not a tweet', { eventID: record.eventID });
    return undefined;
  }
  return { kind, author, tweetId: key.tweet_id };
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const records = event.Records ?? [];
  const failedFrom = await fanoutBatch(deps, records.map(tweetChange));
  if (failedFrom === undefined) return { batchItemFailures: [] };
  return {
    batchItemFailures: records.slice(failedFrom).map((record) => ({
      itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '',
    })),
  };
};
