/** Bulk seeding of DynamoDB Local for the figures that need a large follow graph or history. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A client for seeding only: the handlers' client gives up after 2 s per request (right for a
 * Lambda), but bulk writes to a busy DynamoDB Local may take longer and must not fail the run.
 */
export function seedingClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 10 }));
}

const BATCH = 25;

/** Writes items with BatchWriteItem (25 per call, `concurrency` calls in flight), retrying leftovers. */
export async function batchWriteAll(
  dynamo: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
  concurrency = 8,
): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += BATCH) chunks.push(items.slice(i, i + BATCH));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let pending = chunks[next++] ?? [];
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        const out = await dynamo.send(
          new BatchWriteCommand({
            RequestItems: { [table]: pending.map((Item) => ({ PutRequest: { Item } })) },
          }),
        );
        pending = (out.UnprocessedItems?.[table] ?? []).map(
          (request) => request.PutRequest?.Item as Record<string, unknown>,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
