import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { KeyAttribute, TableSchema } from '../../app/model';

export interface ChirpTablesProps {
  /** The app model's table schemas; one global table is created per schema. */
  readonly schemas: readonly TableSchema[];
  /**
   * Regions that get a replica, besides the stack's own region.
   * @default - none: a single-region global table, replicas can be added later without replacement
   */
  readonly replicaRegions?: readonly string[];
}

/**
 * The DynamoDB global tables (TableV2), built from the app model's schemas: on-demand,
 * point-in-time recovery and deletion protection in every replica, the model's stream and TTL.
 * Each replica keeps the same settings, so a failover region is as protected as the primary.
 */
export class ChirpTables extends Construct {
  /** Tables by the schema's id (e.g. 'Tweets', 'Metadata'). */
  public readonly byId: ReadonlyMap<string, dynamodb.TableV2>;

  constructor(scope: Construct, id: string, props: ChirpTablesProps) {
    super(scope, id);
    const replicas = (props.replicaRegions ?? []).map((region) => ({ region }));
    const byId = new Map<string, dynamodb.TableV2>();
    for (const schema of props.schemas) {
      byId.set(schema.id, new dynamodb.TableV2(this, schema.id, tableProps(schema, replicas)));
    }
    this.byId = byId;
  }

  /** The table built from `schema`. */
  public table(schema: TableSchema): dynamodb.TableV2 {
    const table = this.byId.get(schema.id);
    if (!table) throw new Error(`No table was built for schema ${schema.id}`);
    return table;
  }
}

function tableProps(
  schema: TableSchema,
  replicas: dynamodb.ReplicaTableProps[],
): dynamodb.TablePropsV2 {
  return {
    partitionKey: attribute(schema.partitionKey),
    sortKey: schema.sortKey && attribute(schema.sortKey),
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    dynamoStream: schema.stream && dynamodb.StreamViewType[schema.stream],
    timeToLiveAttribute: schema.ttlAttribute,
    globalSecondaryIndexes: schema.globalIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: index.sortKey && attribute(index.sortKey),
      ...projection(index.projection),
    })),
    replicas,
  };
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  const type = key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
  return { name: key.name, type };
}

function projection(
  value: 'ALL' | 'KEYS_ONLY' | readonly string[],
): Pick<dynamodb.GlobalSecondaryIndexPropsV2, 'projectionType' | 'nonKeyAttributes'> {
  if (value === 'ALL') return { projectionType: dynamodb.ProjectionType.ALL };
  if (value === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...value] };
}
