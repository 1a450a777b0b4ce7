import * as path from 'node:path';
import { CfnElement, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  ENV,
  MEDIA_PREFIXES,
  METADATA_TABLE,
  TWEETS_TABLE,
  type FunctionAccess,
  type FunctionSpec,
} from '../../app/model';
import { FUNCTION_BUNDLE, SDK_CHUNK, sdkChunkCommands } from '../bundling';
import type { ChirpCache } from './cache';

/** The repository root: NodejsFunction entries in the app model are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Everything a function can be wired to. Only what its spec's `access` names is granted. */
export interface ChirpResources {
  readonly tweetsTable: dynamodb.ITableV2;
  readonly metadataTable: dynamodb.ITableV2;
  readonly mediaBucket: s3.IBucket;
  /** https://<distribution domain>, without a trailing slash. */
  readonly cdnBaseUrl: string;
  readonly cache: ChirpCache;
  /**
   * Lambda's X-Ray mode for every function (docs/operations.md, "Tracing"). Lambda samples at a
   * fixed 1 request/s + 5 % in ACTIVE mode (X-Ray sampling rules do not apply to it), which on a
   * quiet stack traces nearly every request; PASS_THROUGH records a trace only when a caller
   * that sampled it passes the header, and none of Chirp's event sources does.
   * @default lambda.Tracing.PASS_THROUGH
   */
  readonly tracing?: lambda.Tracing;
}

export interface ChirpFunctionProps {
  /** The function as the app model declares it: entry, access, memory, timeout. */
  readonly spec: FunctionSpec;
  /** Resources the function may be granted access to, per `spec.access`. */
  readonly resources: ChirpResources;
  /**
   * Extra environment variables (for example the transcoder's binary paths).
   * @default - only the model's names for tables, bucket, CDN and (with cache access) Redis
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Modules left out of the bundle because a layer provides them at /opt/nodejs/node_modules.
   * @default - none: everything, the AWS SDK included, is bundled at the lockfile's versions
   */
  readonly externalModules?: readonly string[];
  /** @default - none */
  readonly layers?: lambda.ILayerVersion[];
  /** @default Size.mebibytes(512), Lambda's minimum */
  readonly ephemeralStorageSize?: Size;
  /** @default - none: the function uses the account's unreserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Directory the spec's entry path is relative to. @default the repository root */
  readonly projectRoot?: string;
}

/**
 * The project's Lambda function: fixes runtime (nodejs24.x), architecture (arm64), active
 * tracing, source maps, its own log group with retention, and the Powertools service name.
 * It is bundled by the local esbuild (never Docker), gets a role of its own that can only write
 * its own log group, and is granted exactly what `spec.access` lists. Functions that use the
 * cache run in the VPC's isolated subnets; the others stay out of the VPC (no ENIs to manage,
 * no reason to be there). Its log group and role are created next to it (before super()), named
 * `${id}Logs` and `${id}Role`.
 */
export class ChirpFunction extends NodejsFunction {
  /** The model's declaration this function was built from. */
  public readonly spec: FunctionSpec;

  constructor(scope: Construct, id: string, props: ChirpFunctionProps) {
    const { spec, resources } = props;
    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const usesCache = spec.access.cache === true;

    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own instead of the default one with AWSLambdaBasicExecutionRole, whose log
    // permissions apply to every log group in the account.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${spec.id} function`,
    });

    super(scope, id, {
      entry: path.join(projectRoot, spec.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb ?? 512,
      timeout: Duration.seconds(spec.timeoutSeconds ?? 10),
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: resources.tracing ?? lambda.Tracing.PASS_THROUGH,
      logGroup,
      role,
      layers: props.layers,
      environment: {
        [ENV.serviceName]: spec.id,
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.tweetsTable]: resources.tweetsTable.tableName,
        [ENV.metadataTable]: resources.metadataTable.tableName,
        [ENV.mediaBucket]: resources.mediaBucket.bucketName,
        [ENV.cdnBaseUrl]: resources.cdnBaseUrl,
        // Real S3 uses virtual-hosted URLs; path style is for emulators only.
        [ENV.s3ForcePathStyle]: 'false',
        ...(usesCache ? resources.cache.environment : {}),
        ...props.environment,
      },
      ...(usesCache
        ? {
            vpc: resources.cache.vpc,
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
            securityGroups: [resources.cache.clientSecurityGroup],
          }
        : {}),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: FUNCTION_BUNDLE.target,
        minify: FUNCTION_BUNDLE.minify,
        mainFields: [...FUNCTION_BUNDLE.mainFields],
        sourceMap: FUNCTION_BUNDLE.sourceMap,
        sourcesContent: FUNCTION_BUNDLE.sourcesContent,
        // The SDK is bundled too (the lockfile's versions run in AWS exactly as in tests), but
        // into a file of its own next to index.js, loaded on first use (lib/bundling.ts).
        externalModules: [SDK_CHUNK.importPath, ...(props.externalModules ?? [])],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => sdkChunkCommands(projectRoot, outputDir),
        },
      },
    });
    this.spec = spec;
    logGroup.grantWrite(role);

    if (usesCache) {
      // AWS-managed policy that Lambda's VPC networking needs for ENIs.
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Lambda needs ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface to attach the function to the isolated subnets that reach the cache; the AWS-managed policy is the documented minimum and tracks the service.',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (pass-through or active): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so CDK grants them on "*". No other statement uses a wildcard resource.',
    });

    grantAccess(this, spec.access, resources);
  }
}

/** Maps the model's FunctionAccess onto L2 grants, and nothing else. */
function grantAccess(fn: ChirpFunction, access: FunctionAccess, resources: ChirpResources): void {
  const tableGrants = {
    read: 'grantReadData',
    write: 'grantWriteData',
    readWrite: 'grantReadWriteData',
  } as const;
  const bucket = resources.mediaBucket;
  const uploads = `${MEDIA_PREFIXES.uploads}*`;
  const staged = `${MEDIA_PREFIXES.staged}*`;
  const processed = `${MEDIA_PREFIXES.processed}*`;

  if (access.tweetsTable) resources.tweetsTable[tableGrants[access.tweetsTable]](fn);
  if (access.metadataTable) resources.metadataTable[tableGrants[access.metadataTable]](fn);
  if (access.presignUploads) bucket.grantPut(fn, uploads);
  if (access.processMedia) {
    bucket.grantRead(fn, uploads);
    bucket.grantPut(fn, staged);
  }
  if (access.publishMedia) {
    // CopyObject reads the source and writes the destination.
    bucket.grantRead(fn, staged);
    bucket.grantPut(fn, processed);
    bucket.grantDelete(fn, processed);
  }
  if (access.listUploadParts) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListMultipartUploadParts'],
        resources: [bucket.arnForObjects(uploads)],
      }),
    );
  }
  if (access.deleteMedia) {
    bucket.grantDelete(fn, uploads);
    bucket.grantDelete(fn, staged);
    bucket.grantDelete(fn, processed);
    // An upload in parts never completed holds its parts until aborted.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(uploads)],
      }),
    );
  }
  if (access.listMediaObjects) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [staged, processed] } },
      }),
    );
  }
  for (const grant of access.itemGrants ?? []) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: grant.actions.map((action) => `dynamodb:${action}`),
        resources: [resources[grant.table].tableArn],
        ...(grant.partitionKeyPrefix !== undefined
          ? {
              conditions: {
                'ForAllValues:StringLike': {
                  'dynamodb:LeadingKeys': [`${grant.partitionKeyPrefix}*`],
                },
              },
            }
          : {}),
      }),
    );
  }
  if (access.cache) resources.cache.grantConnect(fn);

  acknowledgeScopedWildcards(fn, access, resources);
}

/**
 * The L2 grants above produce wildcards that cdk-nag reports one by one (v3 has no prefix
 * matching). Each is acknowledged here, on this function only, for exactly the findings its
 * grants produce.
 */
function acknowledgeScopedWildcards(
  fn: ChirpFunction,
  access: FunctionAccess,
  resources: ChirpResources,
): void {
  const stack = Stack.of(fn);
  const arnToken = (resource: Construct) =>
    `<${stack.getLogicalId(resource.node.defaultChild as CfnElement)}.Arn>`;
  // The findings sit on the role's policy; the role is a sibling of the function, not a child.
  const ack = (finding: string, reason: string) =>
    Validations.of(fn.role as iam.IRole).acknowledge({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason,
    });

  for (const [key, table, schema] of [
    ['tweetsTable', resources.tweetsTable, TWEETS_TABLE],
    ['metadataTable', resources.metadataTable, METADATA_TABLE],
  ] as const) {
    // Grants on a table with indexes also cover its indexes (table-arn/index/*).
    if (access[key] === undefined || schema.globalIndexes.length === 0) continue;
    ack(
      `Resource::${arnToken(table)}/index/*`,
      `Queries on the ${key}'s own global secondary indexes; the wildcard covers only that table's indexes, not other tables.`,
    );
  }

  const bucketArn = arnToken(resources.mediaBucket);
  const objects = (prefix: string) => `Resource::${bucketArn}/${prefix}*`;
  if (access.presignUploads || access.processMedia || access.publishMedia) {
    ack(
      'Action::s3:Abort*',
      'grantPut includes s3:AbortMultipartUpload so an interrupted upload can be cleaned up; scoped to the object prefixes listed for this function.',
    );
  }
  if (access.presignUploads) {
    ack(
      objects(MEDIA_PREFIXES.uploads),
      'Presigned PUT URLs are signed with this role, so it needs s3:PutObject on the upload prefix, where every media id gets its own key; nothing outside uploads/.',
    );
  }
  if (access.listUploadParts) {
    ack(
      objects(MEDIA_PREFIXES.uploads),
      'Completing an upload in parts lists its parts first; every media id has its own key under uploads/.',
    );
  }
  if (access.processMedia) {
    ack(
      objects(MEDIA_PREFIXES.uploads),
      'The transcoder reads any original under uploads/ (one key per media id, unknown in advance); it cannot read processed media or anything else.',
    );
    ack(
      objects(MEDIA_PREFIXES.staged),
      'The transcoder writes and replaces content-addressed variants under staged/ (never served), whose keys are derived at run time.',
    );
  }
  if (access.publishMedia) {
    ack(
      objects(MEDIA_PREFIXES.staged),
      "The publisher copies any media's staged variants (keys per media id, unknown in advance); staged/ is never served.",
    );
    ack(
      objects(MEDIA_PREFIXES.processed),
      'The publisher writes and deletes the served copies of variants under media/, keys per media id.',
    );
  }
  if (access.processMedia || access.publishMedia) {
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
      ack(
        `Action::${action}`,
        'Action group from the L2 grantRead helper, scoped by resource to the media bucket prefixes listed for this function.',
      );
    }
  }
  if (access.publishMedia) {
    ack(
      'Action::s3:DeleteObject*',
      'grantDelete covers DeleteObject and DeleteObjectVersion; scoped to the served prefix media/.',
    );
  }
  if (access.deleteMedia) {
    ack(
      objects(MEDIA_PREFIXES.uploads),
      'The sweeper deletes originals of media never attached to a tweet; keys are per media id.',
    );
    ack(
      objects(MEDIA_PREFIXES.staged),
      'The sweeper deletes the staged variants of media never attached to a tweet; keys are per media id.',
    );
    ack(
      objects(MEDIA_PREFIXES.processed),
      'The sweeper deletes any served copies left of media no longer attached to a tweet; keys are per media id.',
    );
    ack(
      'Action::s3:DeleteObject*',
      'grantDelete covers DeleteObject and DeleteObjectVersion; scoped to the media prefixes.',
    );
  }
}
