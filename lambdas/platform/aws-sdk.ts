/**
 * The AWS SDK's DynamoDB clients, bundled into a file of their own (`aws-sdk.js` next to each
 * function's `index.js`, see lib/constructs/chirp-function.ts) and loaded on first use by
 * document-store.ts. A cold start whose requests are served from the cache never loads the SDK:
 * bundled into the handler, it was most of the ~250 ms it took to load one.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

/** Endpoints (emulators) come from the SDK's own AWS_ENDPOINT_URL_* variables. */
export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      // Two quick retries, then surface the failure: a 503 beats a Lambda timeout.
      maxAttempts: 3,
      // Without a request timeout a DynamoDB that accepts connections but does not answer (a
      // restarting node, a brownout) holds the request until the Lambda times out. 3 x 3 s plus
      // backoff stays inside the 10 s function timeout, so the caller gets its 503; 3 s per
      // attempt is far above DynamoDB's latency, yet leaves room for DynamoDB Local on a busy
      // machine.
      requestHandler: {
        connectionTimeout: 1000,
        requestTimeout: 3000,
        throwOnRequestTimeout: true,
      },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}
