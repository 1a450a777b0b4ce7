import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import type { GlobalIndexSchema, KeyAttribute, TableSchema } from '../app/model';

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey !== undefined ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

function projection(index: GlobalIndexSchema): Projection {
  if (index.projection === 'ALL' || index.projection === 'KEYS_ONLY') {
    return { ProjectionType: index.projection };
  }
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] };
}

/** The CreateTable request for a table of the app model: the same keys, indexes and stream as CDK. */
export function createTableInput(schema: TableSchema, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, KeyAttribute['type']>();
  const addAttribute = (key: KeyAttribute | undefined) => {
    if (key !== undefined) attributes.set(key.name, key.type);
  };
  addAttribute(schema.partitionKey);
  addAttribute(schema.sortKey);
  for (const index of schema.globalIndexes) {
    addAttribute(index.partitionKey);
    addAttribute(index.sortKey);
  }
  const attributeDefinitions: AttributeDefinition[] = [...attributes].map(([name, type]) => ({
    AttributeName: name,
    AttributeType: type,
  }));
  const globalIndexes: GlobalSecondaryIndex[] = schema.globalIndexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: projection(index),
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema(schema.partitionKey, schema.sortKey),
    ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes } : {}),
    ...(schema.stream !== undefined
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: schema.stream } }
      : {}),
  };
}

/** Local physical table name for a model table, e.g. `chirp-tweets`. */
export const localTableName = (schema: TableSchema): string => `chirp-${schema.id.toLowerCase()}`;

/**
 * Creates the table unless it exists (persistent data dir), then enables TTL. An existing table
 * with a different key schema is an error: the data dir predates a model change.
 */
export async function ensureTable(
  client: DynamoDBClient,
  schema: TableSchema,
  tableName: string,
): Promise<'created' | 'existing'> {
  const wanted = createTableInput(schema, tableName);
  const existing = await client
    .send(new DescribeTableCommand({ TableName: tableName }))
    .then((output) => output.Table)
    .catch((error: unknown) => {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    });
  if (existing !== undefined) {
    const describe = (keys: KeySchemaElement[] | undefined) =>
      JSON.stringify((keys ?? []).map((k) => [k.AttributeName, k.KeyType]));
    const indexes = (list: { IndexName?: string }[] | undefined) =>
      (list ?? [])
        .map((i) => i.IndexName)
        .sort()
        .join(',');
    if (
      describe(existing.KeySchema) !== describe(wanted.KeySchema) ||
      indexes(existing.GlobalSecondaryIndexes) !== indexes(wanted.GlobalSecondaryIndexes)
    ) {
      throw new Error(
        `Table ${tableName} in the local data dir does not match the app model; start with --fresh`,
      );
    }
    return 'existing';
  }
  await client.send(new CreateTableCommand(wanted));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  if (schema.ttlAttribute !== undefined) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: schema.ttlAttribute },
      }),
    );
  }
  return 'created';
}
