/**
 * The tweets table read newest first (part of the tweets store): the newest tweet ids of several
 * authors, merged. Timelines use it to rebuild an evicted timeline, to serve pages while Redis is
 * down, and for authors merged at read time.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '../../../app/model';
import type { Deps } from '../ports';

type Source = Pick<Deps, 'dynamo' | 'tables'>;

interface QueryPage {
  readonly ids: string[];
  readonly next?: Record<string, unknown>;
}

/**
 * A Query of one author's tweets older than `before` (all when undefined), newest first, strongly
 * consistent so a tweet is listed as soon as its 201 was sent.
 */
export function newestFirstQuery(
  deps: Source,
  author: string,
  before: string | undefined,
  limit: number,
): QueryCommandInput {
  return {
    TableName: deps.tables.tweets,
    KeyConditionExpression:
      before === undefined ? 'user_id = :user' : 'user_id = :user AND tweet_id < :before',
    ExpressionAttributeValues: {
      ':user': author,
      ...(before === undefined ? {} : { ':before': before }),
    },
    ScanIndexForward: false,
    Limit: limit,
    ConsistentRead: true,
  };
}

async function queryIds(
  deps: Source,
  author: string,
  before: string | undefined,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<QueryPage> {
  const out = await deps.dynamo.query({
    ...newestFirstQuery(deps, author, before, limit),
    ProjectionExpression: 'tweet_id',
    ...(startKey ? { ExclusiveStartKey: startKey } : {}),
  });
  return {
    ids: (out.Items ?? []).map((item) => String(item.tweet_id)),
    ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}),
  };
}

/** The newest tweet ids of one author (older than `before`, when given), newest first. */
export async function newestTweetIds(
  deps: Source,
  author: string,
  limit: number = LIMITS.timelineMaxEntries,
  before?: string,
): Promise<string[]> {
  return (await queryIds(deps, author, before, limit)).ids;
}

const QUERY_CONCURRENCY = 32;

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += QUERY_CONCURRENCY) {
    await Promise.all(items.slice(i, i + QUERY_CONCURRENCY).map(run));
  }
}

/** Merges id lists (each sorted newest first) into one, newest first, without duplicates. */
export function mergeNewestFirst(lists: readonly (readonly string[])[], count: number): string[] {
  const all = [...new Set(lists.flat())];
  all.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return all.slice(0, count);
}

/**
 * The newest `count` tweet ids across `authors` (older than `before`, when given), newest first.
 *
 * Reads in rounds: first a fair share per author, then more only from authors whose oldest id read
 * so far is still newer than the current count-th id, since only they can still contribute. So a
 * user following 200 people reads about `2 * count` items, not `200 * count`.
 */
export async function mergeNewest(
  deps: Source,
  authors: readonly string[],
  count: number,
  before?: string,
): Promise<string[]> {
  const unique = [...new Set(authors)];
  if (unique.length === 0 || count <= 0) return [];
  const state = new Map<string, { ids: string[]; next?: Record<string, unknown> }>();
  let active = unique;
  let limit = Math.min(count, Math.max(10, Math.ceil((2 * count) / unique.length)));
  let merged: string[] = [];
  while (active.length > 0) {
    await inBatches(active, async (author) => {
      const previous = state.get(author);
      const page = await queryIds(deps, author, before, limit, previous?.next);
      state.set(author, {
        ids: [...(previous?.ids ?? []), ...page.ids],
        ...(page.next ? { next: page.next } : {}),
      });
    });
    merged = mergeNewestFirst(
      [...state.values()].map((entry) => entry.ids),
      count,
    );
    const threshold = merged.length >= count ? merged[count - 1] : undefined;
    active = active.filter((author) => {
      const entry = state.get(author);
      const oldest = entry?.ids[entry.ids.length - 1];
      return (
        entry?.next !== undefined &&
        (threshold === undefined || (oldest !== undefined && oldest > threshold))
      );
    });
    limit = count;
  }
  return merged;
}
