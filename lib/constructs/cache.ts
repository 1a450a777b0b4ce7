import { Names, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CACHE_SIZING, ENV } from '../../app/model';

export interface ChirpCacheProps {
  /** Bucket for VPC flow logs. */
  readonly flowLogsBucket: s3.IBucket;
  /** @default 2 */
  readonly maxAzs?: number;
  /** Upper bound on cached data, a cost ceiling (Valkey serverless bills per GB-hour). @default 5 */
  readonly maxDataStorageGb?: number;
  /**
   * Upper bound on ElastiCache Processing Units per second, a cost ceiling.
   * @default CACHE_SIZING.maxEcpuPerSecondDefault (40,000: a 10,000-follower fanout in 2 s)
   */
  readonly maxEcpuPerSecond?: number;
}

/**
 * The cache network and the cache:
 * - a VPC with isolated subnets only (no NAT, no internet route) and gateway endpoints for
 *   DynamoDB and S3, which is all the cache-using Lambdas need besides the cache;
 * - ElastiCache Serverless for Valkey: TLS always on, IAM authentication through a Valkey user,
 *   reachable only from the Lambdas' security group.
 *
 * Why serverless rather than a replication group: Redis here is a rebuildable cache with spiky,
 * unknown load. Serverless Valkey is Multi-AZ by default, scales without node sizing or
 * resharding, is patched without maintenance windows, and has the lowest floor (billed from
 * 100 MB of data), while the smallest Multi-AZ replication group (2 x cache.t4g.micro) costs
 * more at rest and has to be resized by hand. Caveat: keys of one multi-key command or MULTI must
 * share a hash slot (use {hash tags}), as in cluster mode.
 */
export class ChirpCache extends Construct {
  public readonly vpc: ec2.Vpc;
  /** The security group every cache client (Lambda) runs in. */
  public readonly clientSecurityGroup: ec2.SecurityGroup;
  public readonly cache: elasticache.CfnServerlessCache;
  /** The Valkey user the Lambdas authenticate as with IAM (user id = user name). */
  public readonly appUser: elasticache.CfnUser;
  /** Environment for cache clients: REDIS_URL, REDIS_IAM_USER, REDIS_CACHE_NAME. */
  public readonly environment: Readonly<Record<string, string>>;
  /** The serverless cache's name (its CloudWatch `clusterId` dimension). */
  public readonly cacheName: string;
  /** The configured usage maxima, which the monitoring alarms approach. */
  public readonly maxEcpuPerSecond: number;
  public readonly maxDataStorageGb: number;

  constructor(scope: Construct, id: string, props: ChirpCacheProps) {
    super(scope, id);
    // Physical names must be unique per account and region; derive them from the stack.
    const baseName = Names.uniqueResourceName(this, { maxLength: 30, separator: '-' })
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    const cacheName = `${baseName}-valkey`;
    this.cacheName = cacheName;
    this.maxEcpuPerSecond = props.maxEcpuPerSecond ?? CACHE_SIZING.maxEcpuPerSecondDefault;
    this.maxDataStorageGb = props.maxDataStorageGb ?? 5;
    const appUserId = `${baseName}-app`;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      restrictDefaultSecurityGroup: true,
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toS3(props.flowLogsBucket, 'vpc-flow-logs/'),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    // Egress stays open: the subnets have no route beyond the VPC and its gateway endpoints, so
    // "anywhere" means the cache, DynamoDB and S3. Gateway endpoint prefix list ids are not
    // known at synth time offline.
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: this.vpc,
      description: 'Chirp Lambdas that use the cache',
      allowAllOutbound: true,
    });
    const cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc: this.vpc,
      description: 'Chirp Valkey cache: reachable only from the Lambdas',
      allowAllOutbound: false,
    });
    // 6379 is the primary endpoint, 6380 the reader endpoint of a serverless cache.
    cacheSecurityGroup.addIngressRule(
      this.clientSecurityGroup,
      ec2.Port.tcpRange(6379, 6380),
      'Valkey over TLS from the Lambdas',
    );

    this.appUser = new elasticache.CfnUser(this, 'AppUser', {
      engine: 'valkey',
      userId: appUserId,
      userName: appUserId,
      authenticationMode: { Type: 'iam' },
      // Everything the app's cache needs, minus admin and dangerous commands (FLUSHALL, KEYS,
      // CONFIG, DEBUG, INFO...): the client needs no topology or server information.
      accessString: 'on ~* &* +@all -@dangerous',
    });

    // A user group must contain a user named "default". It is switched off with no permissions,
    // so its password (generated, never output) can authenticate nothing.
    const defaultUserPassword = new secretsmanager.Secret(this, 'DisabledDefaultUserPassword', {
      description: 'Password of the disabled "default" Valkey user (cannot log in)',
      generateSecretString: { excludePunctuation: true, passwordLength: 32 },
    });
    Validations.of(defaultUserPassword).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is the password of the Valkey "default" user, which is switched off with access string "off -@all": it can authenticate nothing, so rotation protects nothing. Applications authenticate with IAM tokens.',
    });
    const defaultUser = new elasticache.CfnUser(this, 'DisabledDefaultUser', {
      engine: 'valkey',
      userId: `${baseName}-default`,
      userName: 'default',
      authenticationMode: {
        Type: 'password',
        Passwords: [defaultUserPassword.secretValue.unsafeUnwrap()],
      },
      accessString: 'off -@all',
    });

    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'valkey',
      userGroupId: `${baseName}-users`,
      userIds: [defaultUser.userId, this.appUser.userId],
    });
    // The group names its users by id (plain strings), so the ordering is explicit.
    userGroup.node.addDependency(defaultUser, this.appUser);

    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      engine: 'valkey',
      majorEngineVersion: '8',
      serverlessCacheName: cacheName,
      description: 'Chirp hot tweets and home timelines (rebuildable from DynamoDB)',
      subnetIds: this.vpc.isolatedSubnets.map((subnet) => subnet.subnetId),
      securityGroupIds: [cacheSecurityGroup.securityGroupId],
      userGroupId: userGroup.userGroupId,
      cacheUsageLimits: {
        dataStorage: { maximum: this.maxDataStorageGb, unit: 'GB' },
        ecpuPerSecond: { maximum: this.maxEcpuPerSecond },
      },
      // Everything in it can be rebuilt from DynamoDB; snapshots would only cost money.
      snapshotRetentionLimit: 0,
    });
    this.cache.node.addDependency(userGroup);

    this.environment = {
      [ENV.redisUrl]: `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`,
      [ENV.redisIamUser]: appUserId,
      [ENV.redisCacheName]: cacheName,
    };
  }

  /** elasticache:Connect on this cache as the app user, the permission IAM authentication needs. */
  /**
   * Limits the gateway endpoints to this stack's tables and bucket. Their default policy allows
   * any call to any table or bucket (another account's too), which would give a compromised
   * function in the isolated subnets an egress path; with this, the VPC reaches only these.
   */
  public restrictEndpointsTo(tables: readonly dynamodb.ITableV2[], bucket: s3.IBucket): void {
    const endpoint = (id: string) => this.vpc.node.findChild(id) as ec2.GatewayVpcEndpoint;
    endpoint('DynamoDb').addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['dynamodb:*'],
        resources: tables.flatMap((table) => [table.tableArn, `${table.tableArn}/index/*`]),
      }),
    );
    endpoint('S3').addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticache:Connect'],
      resourceArns: [this.cache.attrArn, this.appUser.attrArn],
    });
  }
}
