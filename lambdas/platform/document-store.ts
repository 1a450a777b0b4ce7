// Own code: loads the SDK file on the first DynamoDB call, so a cold start served from Redis never compiles it (docs/own-code.md).
/**
 * DynamoDB as the domain sees it: the document client's operations, with the SDK loaded on the
 * first call (from aws-sdk.ts, a file of its own in each function's bundle). Domain modules take a
 * DocumentStore as a parameter and never import the SDK's classes, so loading a handler loads no
 * SDK code; only types are imported here.
 */
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  DynamoDBDocumentClient,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

type AwsSdk = typeof import('./aws-sdk');

export interface DocumentStore {
  get(input: GetCommandInput): Promise<GetCommandOutput>;
  put(input: PutCommandInput): Promise<PutCommandOutput>;
  update(input: UpdateCommandInput): Promise<UpdateCommandOutput>;
  delete(input: DeleteCommandInput): Promise<DeleteCommandOutput>;
  query(input: QueryCommandInput): Promise<QueryCommandOutput>;
  batchGet(input: BatchGetCommandInput): Promise<BatchGetCommandOutput>;
  transactWrite(input: TransactWriteCommandInput): Promise<TransactWriteCommandOutput>;
  /** Any other command (tests and tools): sent through the same client. */
  readonly send: DynamoDBDocumentClient['send'];
}

interface Loaded {
  readonly sdk: AwsSdk;
  readonly client: DynamoDBDocumentClient;
}

/** A store whose SDK and client are created on the first call, once per process. */
export function lazyDocumentStore(): DocumentStore {
  let loading: Promise<Loaded> | undefined;
  return documentStore(
    () =>
      (loading ??= import('./aws-sdk.js').then((sdk) => ({
        sdk,
        client: sdk.createDocumentClient(),
      }))),
  );
}

/** A store over whatever client `load` gives (tests pass one pointed at a failing endpoint). */
export function documentStore(load: () => Promise<Loaded>): DocumentStore {
  // `send` is overloaded per command type; each operation below pairs its own input and output.
  type Send = (command: unknown) => Promise<unknown>;
  /** One operation: load (once), build the SDK's command, send it. */
  const operation =
    <I, O>(command: (sdk: AwsSdk, input: I) => unknown) =>
    async (input: I): Promise<O> => {
      const { sdk, client } = await load();
      return (await (client.send.bind(client) as Send)(command(sdk, input))) as O;
    };
  return {
    get: operation<GetCommandInput, GetCommandOutput>((sdk, i) => new sdk.GetCommand(i)),
    put: operation<PutCommandInput, PutCommandOutput>((sdk, i) => new sdk.PutCommand(i)),
    update: operation<UpdateCommandInput, UpdateCommandOutput>(
      (sdk, i) => new sdk.UpdateCommand(i),
    ),
    delete: operation<DeleteCommandInput, DeleteCommandOutput>(
      (sdk, i) => new sdk.DeleteCommand(i),
    ),
    query: operation<QueryCommandInput, QueryCommandOutput>((sdk, i) => new sdk.QueryCommand(i)),
    batchGet: operation<BatchGetCommandInput, BatchGetCommandOutput>(
      (sdk, i) => new sdk.BatchGetCommand(i),
    ),
    transactWrite: operation<TransactWriteCommandInput, TransactWriteCommandOutput>(
      (sdk, i) => new sdk.TransactWriteCommand(i),
    ),
    send: operation<unknown, unknown>((_, command) => command) as DynamoDBDocumentClient['send'],
  };
}
