import { expect } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import {
  CACHE_SIZING,
  EVENT_FUNCTIONS,
  FANOUT_FUNCTION,
  fanoutDeliveriesPerSecond,
  LIMITS,
  MEDIA_PUBLISHER_FUNCTION,
  MEDIA_SERVING,
  MEDIA_SWEEPER_FUNCTION,
  METADATA_TABLE,
  ROUTES,
  TABLES,
  TRANSCODER_FUNCTION,
  TRANSCODER_RESERVED_CONCURRENCY,
  TRANSCODER_TWO_VCPU_MEMORY_MB,
  TWEETS_TABLE,
  type FunctionAccess,
  type FunctionSpec,
} from '../../app/model';
import type { ChirpFunction } from '../../lib/constructs/chirp-function';
import type { ChirpStack } from '../../lib/chirp-stack';
import { recordDeploySettings, settingsKey } from '../../lib/deploy-settings';
import { STACK_OUTPUT_KEYS } from '../../scripts/verify/targets';
import { logicalId, resourceOf, resourcesOfType, synthChirp, type Synthesized } from './synth';

const CORS_ORIGIN = 'https://app.example.com';
let synthesized: Synthesized;
let template: Template;
let stack: ChirpStack;

beforeAll(() => {
  synthesized = synthChirp({
    context: { corsOrigins: `${CORS_ORIGIN},https://admin.example.com` },
  });
  ({ template, stack } = synthesized);
});
afterAll(() => fs.rmSync(synthesized.outdir, { recursive: true, force: true }));

/** The web app's origin as the template spells it (its distribution's domain). */
const webAppOrigin = (): unknown => stack.resolve(stack.webApp.url);

/** Every project function with the model spec it was built from. */
function allFunctions(): ChirpFunction[] {
  return [
    ...stack.api.functions.values(),
    stack.fanout.function,
    stack.transcoder.function,
    stack.mediaSweeper.function,
    stack.mediaPublisher.function,
  ];
}

function functionResource(fn: ChirpFunction): Record<string, unknown> {
  return resourceOf(template, logicalId(stack, fn)).Properties;
}

function environment(fn: ChirpFunction): Record<string, unknown> {
  return (functionResource(fn).Environment as { Variables: Record<string, unknown> }).Variables;
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The statements of a function's own role policy. */
function statements(fn: ChirpFunction): Statement[] {
  const policy = (fn.role as iam.Role).node.tryFindChild('DefaultPolicy') as iam.Policy;
  const document = resourceOf(template, logicalId(stack, policy)).Properties.PolicyDocument as {
    Statement: Statement[];
  };
  return document.Statement;
}

describe('tables', () => {
  it('creates one global table per schema in the app model, with its keys, indexes and TTL', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLES.length);
    for (const schema of TABLES) {
      const keySchema = [{ AttributeName: schema.partitionKey.name, KeyType: 'HASH' }];
      if (schema.sortKey) keySchema.push({ AttributeName: schema.sortKey.name, KeyType: 'RANGE' });
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: keySchema,
        BillingMode: 'PAY_PER_REQUEST',
        ...(schema.stream ? { StreamSpecification: { StreamViewType: schema.stream } } : {}),
        ...(schema.ttlAttribute
          ? { TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true } }
          : {}),
        GlobalSecondaryIndexes:
          schema.globalIndexes.length === 0
            ? Match.absent()
            : schema.globalIndexes.map((index) => Match.objectLike({ IndexName: index.indexName })),
      });
    }
  });

  it('keys tweets by user_id and tweet_id, with a NEW_AND_OLD_IMAGES stream for the fanout', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'user_id', KeyType: 'HASH' },
        { AttributeName: 'tweet_id', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('turns on point-in-time recovery and deletion protection, and retains the tables', () => {
    for (const [, table] of resourcesOfType(template, 'AWS::DynamoDB::GlobalTable')) {
      const replicas = table.Properties.Replicas as Array<Record<string, unknown>>;
      for (const replica of replicas) {
        expect(replica).toMatchObject({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
      }
    }
    template.allResources('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has a single replica, in the stack region, by default', () => {
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ Region: 'us-east-1' })],
    });
  });
});

describe('regions', () => {
  it('replicates every table to the regions of -c replicaRegions, besides -c region', () => {
    const multi = synthChirp({
      context: { region: 'us-east-1', replicaRegions: 'us-west-2,eu-west-1' },
    });
    try {
      const tables = resourcesOfType(multi.template, 'AWS::DynamoDB::GlobalTable');
      expect(tables).toHaveLength(TABLES.length);
      for (const [, table] of tables) {
        const regions = (table.Properties.Replicas as Array<{ Region: string }>).map(
          (replica) => replica.Region,
        );
        expect(regions.sort()).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
      }
    } finally {
      fs.rmSync(multi.outdir, { recursive: true, force: true });
    }
  });

  describe('replica changes against the recorded deploy settings', () => {
    let dir: string;
    let settingsFile: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-settings-'));
      settingsFile = path.join(dir, 'deploy-settings.json');
      recordDeploySettings(settingsFile, settingsKey('Chirp', 'us-east-1'), {
        replicaRegions: ['us-west-2'],
      });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const replicasOf = (t: Template) =>
      (
        Object.values(t.findResources('AWS::DynamoDB::GlobalTable'))[0] as {
          Properties: { Replicas: { Region: string }[] };
        }
      ).Properties.Replicas.map((r) => r.Region).sort();
    const synthWith = (context: Record<string, unknown>) => {
      const s = synthChirp({ context: { deploySettingsFile: settingsFile, ...context } });
      fs.rmSync(s.outdir, { recursive: true, force: true });
      return s.template;
    };

    it('keeps the recorded replicas when -c replicaRegions is not given', () => {
      expect(replicasOf(synthWith({}))).toEqual(['us-east-1', 'us-west-2']);
    });

    it('allows adding or removing one replica per deploy', () => {
      const added = synthWith({ replicaRegions: 'us-west-2,eu-west-1' });
      expect(replicasOf(added)).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
      expect(replicasOf(synthWith({ replicaRegions: '' }))).toEqual(['us-east-1']);
    });

    it('fails synth, with the way through, when more than one would change at once', () => {
      expect(() => synthWith({ replicaRegions: 'eu-west-1,ap-south-1' })).toThrow(
        /CloudFormation adds or removes one replica per update.*-c replicaRegions=us-west-2,eu-west-1/,
      );
    });
  });

  it('rejects a region name that is not one', () => {
    expect(() => synthChirp({ context: { replicaRegions: 'us-west-2,eu-wset1' } })).toThrow(
      /Not an AWS region name: "eu-wset1"/,
    );
  });

  it('deploys to -c region', () => {
    const other = synthChirp({ context: { region: 'eu-central-1' } });
    try {
      expect(other.stack.region).toBe('eu-central-1');
      other.template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [Match.objectLike({ Region: 'eu-central-1' })],
      });
    } finally {
      fs.rmSync(other.outdir, { recursive: true, force: true });
    }
  });
});

describe('media bucket', () => {
  const mediaBucket = () => logicalId(stack, stack.media.bucket);

  it('is private, owner-enforced, encrypted and logs access to the log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^AccessLogsBucket') },
      },
    });
    const bucket = resourceOf(template, mediaBucket());
    expect(bucket.Properties.LoggingConfiguration).toBeDefined();
  });

  it('enforces TLS with a bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: mediaBucket() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('allows browser PUTs from the configured origins only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({
            AllowedMethods: ['PUT'],
            AllowedOrigins: [CORS_ORIGIN, 'https://admin.example.com', webAppOrigin()],
          }),
        ],
      },
    });
  });

  it('expires abandoned uploads under the upload prefix', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'uploads/',
            Status: 'Enabled',
            ExpirationInDays: Match.anyValue(),
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ]),
      },
    });
    const lifecycle = resourceOf(template, mediaBucket()).Properties.LifecycleConfiguration as {
      Rules: Array<{ ExpirationInDays: number }>;
    };
    const rule = lifecycle.Rules[0];
    // Longer than the time the app gives an upload to be attached, so the sweeper sees it first.
    expect(rule?.ExpirationInDays).toBeGreaterThan(LIMITS.unattachedMediaTtlSeconds / 86_400);
  });

  it('expires staged variants (orphans included) once they can no longer be published', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'staged/',
            Status: 'Enabled',
            ExpirationInDays: MEDIA_SERVING.stagedExpirationDays,
          }),
        ]),
      },
    });
    // Media can be attached only within the unattached window; publishing follows in seconds.
    expect(MEDIA_SERVING.stagedExpirationDays).toBeGreaterThan(
      LIMITS.unattachedMediaTtlSeconds / 86_400 + 1,
    );
  });

  it('invokes the transcoder for objects created under the upload prefix', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: mediaBucket() },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
            LambdaFunctionArn: {
              'Fn::GetAtt': [logicalId(stack, stack.transcoder.function), 'Arn'],
            },
          },
        ],
      },
    });
  });
});

describe('CDN', () => {
  const distribution = () => logicalId(stack, stack.cdn.distribution);

  it('serves the media bucket over HTTPS only through Origin Access Control, with access logs', () => {
    // The media distribution and the web app's (test/infra/web-app.test.ts).
    template.resourceCountIs('AWS::CloudFront::Distribution', 2);
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always' },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: {
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
          CachePolicyId: { Ref: Match.stringLikeRegexp('ImmutableMedia') },
          ResponseHeadersPolicyId: { Ref: Match.stringLikeRegexp('SecurityHeaders') },
        },
        Origins: [
          Match.objectLike({
            DomainName: {
              'Fn::GetAtt': [logicalId(stack, stack.media.bucket), 'RegionalDomainName'],
            },
            OriginAccessControlId: { 'Fn::GetAtt': [Match.anyValue(), 'Id'] },
          }),
        ],
        Logging: { Bucket: Match.anyValue(), Prefix: 'cloudfront/' },
      },
    });
  });

  it('lets the distribution read the processed prefix and nothing else', () => {
    const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(
      ([, policy]) =>
        JSON.stringify(policy.Properties.Bucket) ===
        JSON.stringify({ Ref: logicalId(stack, stack.media.bucket) }),
    );
    expect(policies).toHaveLength(1);
    const cloudFrontStatements = (
      policies[0]![1].Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement.filter((s) => JSON.stringify(s.Principal).includes('cloudfront.amazonaws.com'));
    expect(cloudFrontStatements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [logicalId(stack, stack.media.bucket), 'Arn'] }, '/media/*'],
          ],
        },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': expect.objectContaining({
              'Fn::Join': ['', expect.arrayContaining([{ Ref: distribution() }])],
            }),
          },
        },
      }),
    ]);
  });

  it("keeps media at an edge at most an hour (a deleted tweet's bound), keyed on the path only", () => {
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: {
        MinTTL: 0,
        DefaultTTL: MEDIA_SERVING.cdnMaxTtlSeconds,
        MaxTTL: MEDIA_SERVING.cdnMaxTtlSeconds,
        ParametersInCacheKeyAndForwardedToOrigin: {
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
        },
      },
    });
  });

  it('does not cache refusals, so media published a moment after a request is served', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        CustomErrorResponses: [
          { ErrorCode: 403, ErrorCachingMinTTL: 0 },
          { ErrorCode: 404, ErrorCachingMinTTL: 0 },
        ],
      },
    });
  });

  it('adds security response headers', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 63_072_000 }),
          ContentSecurityPolicy: Match.objectLike({
            ContentSecurityPolicy: Match.stringLikeRegexp("default-src 'none'"),
          }),
          ReferrerPolicy: Match.anyValue(),
        },
      },
    });
  });

  it('names its account-global parts (OAC, response headers policy) per region', () => {
    const names = (t: Template) => [
      ...resourcesOfType(t, 'AWS::CloudFront::OriginAccessControl').map(
        ([, r]) => (r.Properties.OriginAccessControlConfig as { Name: string }).Name,
      ),
      ...resourcesOfType(t, 'AWS::CloudFront::ResponseHeadersPolicy').map(
        ([, r]) => (r.Properties.ResponseHeadersPolicyConfig as { Name: string }).Name,
      ),
      ...resourcesOfType(t, 'AWS::CloudFront::CachePolicy').map(
        ([, r]) => (r.Properties.CachePolicyConfig as { Name: string }).Name,
      ),
    ];
    const here = names(template);
    expect(here).toHaveLength(5); // media CDN: OAC, headers, cache policy; web app: OAC, headers
    for (const name of here) expect(name).toMatch(/-us-east-1$/);
    const elsewhere = synthChirp({ context: { region: 'eu-west-1' } });
    try {
      const there = names(elsewhere.template);
      expect(there.filter((name) => here.includes(name))).toEqual([]);
    } finally {
      fs.rmSync(elsewhere.outdir, { recursive: true, force: true });
    }
  });

  it('gives functions CDN_BASE_URL = https://<distribution domain>', () => {
    for (const fn of allFunctions()) {
      expect(environment(fn).CDN_BASE_URL).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution(), 'DomainName'] }]],
      });
    }
  });
});

describe('cache network', () => {
  const cacheFunctions = () => allFunctions().filter((fn) => fn.spec.access.cache === true);
  const otherFunctions = () => allFunctions().filter((fn) => fn.spec.access.cache !== true);

  it('is a VPC with isolated subnets only: no NAT, no internet gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.resourcePropertiesCountIs('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0' }, 0);
  });

  it('reaches DynamoDB and S3 through gateway endpoints', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const service of ['dynamodb', 's3']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: {
          'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]],
        },
      });
    }
  });

  it("limits the gateway endpoints to this stack's tables and bucket", () => {
    const arn = (construct: Parameters<typeof logicalId>[1]) => ({
      'Fn::GetAtt': [logicalId(stack, construct), 'Arn'],
    });
    const index = (construct: Parameters<typeof logicalId>[1]) => ({
      'Fn::Join': ['', [arn(construct), '/index/*']],
    });
    const [tweets, metadata] = [stack.tables.table(TABLES[0]), stack.tables.table(TABLES[1])];
    const policyOf = (service: string) =>
      resourcesOfType(template, 'AWS::EC2::VPCEndpoint').find(([, r]) =>
        JSON.stringify(r.Properties.ServiceName).includes(`.${service}`),
      )![1].Properties.PolicyDocument as { Statement: unknown[] };
    expect(policyOf('dynamodb').Statement).toEqual([
      {
        Action: 'dynamodb:*',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Resource: expect.arrayContaining([
          arn(tweets),
          index(tweets),
          arn(metadata),
          index(metadata),
        ]),
      },
    ]);
    expect((policyOf('dynamodb').Statement[0] as { Resource: unknown[] }).Resource).toHaveLength(4);
    expect(policyOf('s3').Statement).toEqual([
      {
        Action: 's3:*',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Resource: [arn(stack.media.bucket), { 'Fn::Join': ['', [arn(stack.media.bucket), '/*']] }],
      },
    ]);
  });

  it('logs VPC flows', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      LogDestinationType: 's3',
      TrafficType: 'ALL',
    });
  });

  it('runs ElastiCache Serverless for Valkey with an IAM-authenticated user', () => {
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('isolatedSubnet') }]),
      UserGroupId: stack.cache.cache.userGroupId,
    });
    template.hasResourceProperties('AWS::ElastiCache::User', {
      Engine: 'valkey',
      AuthenticationMode: { Type: 'iam' },
      UserId: stack.cache.appUser.userId,
      // IAM authentication requires user name = user id.
      UserName: stack.cache.appUser.userId,
      AccessString: Match.stringLikeRegexp('^on '),
    });
    // The user group's mandatory "default" user is switched off.
    template.hasResourceProperties('AWS::ElastiCache::User', {
      UserName: 'default',
      AccessString: 'off -@all',
    });
  });

  it('accepts connections only from the Lambdas security group', () => {
    const cacheSg = logicalId(stack, stack.cache.node.findChild('CacheSecurityGroup'));
    const clientSg = logicalId(stack, stack.cache.clientSecurityGroup);
    const ingress = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress').filter(([, rule]) =>
      JSON.stringify(rule.Properties.GroupId).includes(cacheSg),
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0]![1].Properties).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [clientSg, 'GroupId'] },
    });
    const sg = resourceOf(template, cacheSg).Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
  });

  it('puts exactly the functions that use the cache in the isolated subnets, with its URL', () => {
    const clientSg = logicalId(stack, stack.cache.clientSecurityGroup);
    expect(cacheFunctions().length).toBeGreaterThan(0);
    for (const fn of cacheFunctions()) {
      expect(functionResource(fn).VpcConfig).toEqual({
        SecurityGroupIds: [{ 'Fn::GetAtt': [clientSg, 'GroupId'] }],
        SubnetIds: expect.arrayContaining([{ Ref: expect.stringMatching(/isolatedSubnet/) }]),
      });
      const env = environment(fn);
      expect(JSON.stringify(env.REDIS_URL)).toContain('rediss://');
      expect(env.REDIS_URL).toEqual({
        'Fn::Join': [
          '',
          [
            'rediss://',
            { 'Fn::GetAtt': [logicalId(stack, stack.cache.cache), 'Endpoint.Address'] },
            ':',
            { 'Fn::GetAtt': [logicalId(stack, stack.cache.cache), 'Endpoint.Port'] },
          ],
        ],
      });
      expect(env.REDIS_IAM_USER).toBe(stack.cache.appUser.userId);
      expect(env.REDIS_CACHE_NAME).toBe(stack.cache.cache.serverlessCacheName);
    }
    for (const fn of otherFunctions()) {
      expect(functionResource(fn).VpcConfig).toBeUndefined();
      expect(environment(fn).REDIS_URL).toBeUndefined();
    }
  });

  it('grants elasticache:Connect on the cache and its user to cache functions only', () => {
    for (const fn of allFunctions()) {
      const connect = statements(fn).filter((s) => s.Action === 'elasticache:Connect');
      if (fn.spec.access.cache) {
        expect(connect).toEqual([
          expect.objectContaining({
            Resource: expect.arrayContaining([
              { 'Fn::GetAtt': [logicalId(stack, stack.cache.cache), 'ARN'] },
              { 'Fn::GetAtt': [logicalId(stack, stack.cache.appUser), 'Arn'] },
            ]),
          }),
        ]);
      } else {
        expect(connect).toEqual([]);
      }
    }
  });
});

describe('HTTP API', () => {
  it('has one route per model route, each requiring the JWT authorizer', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    const authorizer = logicalId(stack, stack.api.api.node.findChild('CognitoJwt'));
    for (const route of ROUTES) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method} ${route.path}`,
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizer },
      });
    }
    // No route, of any origin, escapes the authorizer.
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', {
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizer },
    });
  });

  it('validates Cognito JWTs for the app clients (the API client, the web app and the post-deploy check)', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 3);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [
          { Ref: logicalId(stack, stack.api.userPoolClient) },
          { Ref: logicalId(stack, stack.api.webLogin!.client) },
          { Ref: logicalId(stack, stack.api.verifyClient) },
        ],
        Issuer: {
          'Fn::Join': [
            '',
            [
              'https://cognito-idp.us-east-1.amazonaws.com/',
              { Ref: logicalId(stack, stack.api.userPool) },
            ],
          ],
        },
      },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false });
  });

  it('leaves OAuth to the web app client: the SRP app client has no grant and no callback', () => {
    const clients = template.findResources('AWS::Cognito::UserPoolClient');
    const app = clients[logicalId(stack, stack.api.userPoolClient)]?.Properties as
      Record<string, unknown> | undefined;
    expect(app).toMatchObject({
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
    expect(app?.AllowedOAuthFlows).toBeUndefined();
    expect(app?.CallbackURLs).toBeUndefined();
  });

  it('gives the post-deploy check a client that signs in only through the admin API (IAM credentials)', () => {
    const clients = template.findResources('AWS::Cognito::UserPoolClient');
    const verify = clients[logicalId(stack, stack.api.verifyClient)]?.Properties as
      Record<string, unknown> | undefined;
    expect(verify).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: 15,
      TokenValidityUnits: { AccessToken: 'minutes' },
    });
    // No hosted-UI or OAuth flow: nothing a browser could start.
    expect(verify?.AllowedOAuthFlows).toBeUndefined();
    // No other client allows a password grant without SRP.
    for (const [id, client] of Object.entries(clients)) {
      if (id === logicalId(stack, stack.api.verifyClient)) continue;
      const flows = (client.Properties as { ExplicitAuthFlows?: string[] }).ExplicitAuthFlows ?? [];
      expect(flows.filter((flow) => flow.includes('PASSWORD_AUTH'))).toEqual([]);
    }
  });

  it('routes each path to its own function, built from the entry the model names', () => {
    for (const route of ROUTES) {
      const fn = stack.api.functions.get(route.id);
      expect(fn?.spec).toBe(route);
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(stack, fn!), 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
    }
  });

  it('has a stage with JSON access logs and default throttling', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context.requestId'),
      },
      DefaultRouteSettings: {
        ThrottlingRateLimit: Match.anyValue(),
        ThrottlingBurstLimit: Match.anyValue(),
      },
    });
  });

  it('answers CORS preflight for the configured origins', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: [CORS_ORIGIN, 'https://admin.example.com', webAppOrigin()],
        // The headers a browser client sends, and Retry-After readable on a 503.
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        AllowMethods: ['*'],
        ExposeHeaders: ['retry-after'],
        MaxAge: 86400,
      },
    });
  });
});

describe('functions', () => {
  it('builds one function per route and event function in the model', () => {
    const specs = allFunctions().map((fn) => fn.spec);
    expect(specs).toEqual([...ROUTES, ...EVENT_FUNCTIONS]);
  });

  it('runs every function on nodejs24.x, arm64, X-Ray pass-through, source maps and its own log group', () => {
    for (const fn of allFunctions()) {
      const props = functionResource(fn);
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        // Lambda's active tracing samples at a fixed rate no sampling rule changes (docs/operations.md).
        TracingConfig: { Mode: 'PassThrough' },
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
        MemorySize: fn.spec.memoryMb ?? 512,
        Timeout: fn.spec.timeoutSeconds ?? 10,
      });
      expect(environment(fn)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: fn.spec.id,
        NODE_OPTIONS: '--enable-source-maps',
        S3_FORCE_PATH_STYLE: 'false',
        TWEETS_TABLE: { Ref: logicalId(stack, stack.tables.table(TWEETS_TABLE)) },
        MEDIA_BUCKET: { Ref: logicalId(stack, stack.media.bucket) },
      });
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('samples traces actively only when asked (-c lambdaTracing=active), and refuses other modes', () => {
    const active = synthChirp({ context: { lambdaTracing: 'active' } });
    try {
      const modes = resourcesOfType(active.template, 'AWS::Lambda::Function')
        .filter(([, r]) => r.Properties.TracingConfig !== undefined)
        .map(([, r]) => (r.Properties.TracingConfig as { Mode: string }).Mode);
      expect(modes.length).toBe(ROUTES.length + EVENT_FUNCTIONS.length);
      expect(new Set(modes)).toEqual(new Set(['Active']));
    } finally {
      fs.rmSync(active.outdir, { recursive: true, force: true });
    }
    expect(() => synthChirp({ context: { lambdaTracing: 'sometimes' } })).toThrow(/lambdaTracing/);
  });

  it('uses no AWS-managed basic execution role: each role writes only its own log group', () => {
    for (const fn of allFunctions()) {
      const role = resourceOf(template, logicalId(stack, fn.role as iam.Role)).Properties;
      expect(JSON.stringify(role.ManagedPolicyArns ?? [])).not.toContain(
        'AWSLambdaBasicExecutionRole',
      );
      const logs = statements(fn).filter((s) => JSON.stringify(s.Action).includes('logs:'));
      expect(logs).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/Logs/), 'Arn'] },
        }),
      ]);
    }
  });
});

describe('least privilege', () => {
  type Target = 'tweets' | 'metadata' | 'uploads' | 'staged' | 'media';
  const readActions = ['dynamodb:GetItem', 'dynamodb:Query'];
  const writeActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

  /** What the function's policy lets it do, per target: the set of actions. */
  function granted(fn: ChirpFunction): Record<Target, Set<string>> {
    const result: Record<Target, Set<string>> = {
      tweets: new Set(),
      metadata: new Set(),
      uploads: new Set(),
      staged: new Set(),
      media: new Set(),
    };
    const ids = {
      tweets: logicalId(stack, stack.tables.table(TABLES[0])),
      metadata: logicalId(stack, stack.tables.table(TABLES[1])),
      bucket: logicalId(stack, stack.media.bucket),
    };
    for (const statement of statements(fn)) {
      // Narrow grants (with a condition) are checked on their own, under 'narrow grants'.
      if (statement.Condition !== undefined) continue;
      const actions = [statement.Action].flat();
      const resource = JSON.stringify(statement.Resource);
      const add = (target: Target) => actions.forEach((action) => result[target].add(action));
      if (resource.includes(`"${ids.tweets}"`) && !resource.includes('StreamArn')) add('tweets');
      // Stream reads of an event source mapping are not table access.
      if (resource.includes(`"${ids.metadata}"`) && !resource.includes('StreamArn'))
        add('metadata');
      if (resource.includes(`"${ids.bucket}"`) && resource.includes('/uploads/*')) add('uploads');
      if (resource.includes(`"${ids.bucket}"`) && resource.includes('/staged/*')) add('staged');
      if (resource.includes(`"${ids.bucket}"`) && resource.includes('/media/*')) add('media');
    }
    return result;
  }

  /** The table's actions minus those of the spec's narrow grants on it. */
  function tableWide(
    spec: FunctionSpec,
    table: 'tweetsTable' | 'metadataTable',
    actions: Set<string>,
  ): Set<string> {
    const narrow = (spec.access.itemGrants ?? [])
      .filter((grant) => grant.table === table)
      .flatMap((grant) => grant.actions.map((action) => `dynamodb:${action}`));
    return new Set([...actions].filter((action) => !narrow.includes(action)));
  }

  function expectTable(actions: Set<string>, mode: FunctionAccess['tweetsTable']): void {
    const can = (list: string[]) => list.every((action) => actions.has(action));
    const none = (list: string[]) => list.every((action) => !actions.has(action));
    if (mode === undefined) expect(actions.size).toBe(0);
    if (mode === 'read') expect(can(readActions) && none(writeActions)).toBe(true);
    if (mode === 'write') expect(can(writeActions) && none(readActions)).toBe(true);
    if (mode === 'readWrite') expect(can(readActions) && can(writeActions)).toBe(true);
  }

  const specs: FunctionSpec[] = [...ROUTES, ...EVENT_FUNCTIONS];
  it.each(specs.map((spec) => [spec.id, spec] as const))(
    '%s gets exactly the access its model spec lists',
    (_id, spec) => {
      const fn = allFunctions().find((candidate) => candidate.spec.id === spec.id)!;
      const access = granted(fn);
      expectTable(tableWide(spec, 'tweetsTable', access.tweets), spec.access.tweetsTable);
      expectTable(tableWide(spec, 'metadataTable', access.metadata), spec.access.metadataTable);

      const uploads = [...access.uploads];
      const staged = [...access.staged];
      const media = [...access.media];
      const canPut = (actions: string[]) => actions.includes('s3:PutObject');
      const canRead = (actions: string[]) => actions.includes('s3:GetObject*');
      const canDelete = (actions: string[]) => actions.includes('s3:DeleteObject*');
      const { presignUploads, processMedia, publishMedia, deleteMedia } = spec.access;
      expect(canPut(uploads)).toBe(presignUploads === true);
      expect(canRead(uploads)).toBe(processMedia === true);
      expect(canDelete(uploads)).toBe(deleteMedia === true);
      // The transcoder writes staged variants; only the publisher reads them (to copy).
      expect(canPut(staged)).toBe(processMedia === true);
      expect(canRead(staged)).toBe(publishMedia === true);
      expect(canDelete(staged)).toBe(deleteMedia === true);
      // Only the publisher writes what the CDN serves; nothing reads it but the CDN.
      expect(canPut(media)).toBe(publishMedia === true);
      expect(canRead(media)).toBe(false);
      expect(canDelete(media)).toBe(publishMedia === true || deleteMedia === true);
    },
  );
});

describe('narrow grants', () => {
  const tableId = (key: 'tweetsTable' | 'metadataTable') =>
    logicalId(stack, stack.tables.table(key === 'tweetsTable' ? TABLES[0] : TABLES[1]));

  const withItemGrants = [...ROUTES, ...EVENT_FUNCTIONS].filter(
    (spec) => (spec.access.itemGrants ?? []).length > 0,
  );
  it.each(withItemGrants.map((spec) => [spec.id, spec] as const))(
    '%s gets each item grant on its table only, limited to its partition key prefix',
    (_id, spec) => {
      const fn = allFunctions().find((candidate) => candidate.spec.id === spec.id)!;
      const table = (key: 'tweetsTable' | 'metadataTable') => ({
        'Fn::GetAtt': [tableId(key), 'Arn'],
      });
      for (const grant of spec.access.itemGrants ?? []) {
        const actions = grant.actions.map((action) => `dynamodb:${action}`);
        if (grant.partitionKeyPrefix === undefined) {
          // Unconditional: CDK may merge it into the statement of the same table.
          const on = statements(fn).filter((s) =>
            JSON.stringify(s.Resource).includes(JSON.stringify(table(grant.table))),
          );
          expect(on.flatMap((s) => [s.Action].flat())).toEqual(expect.arrayContaining(actions));
          continue;
        }
        expect(statements(fn)).toContainEqual({
          Action: actions.length === 1 ? actions[0] : actions,
          Effect: 'Allow',
          Resource: table(grant.table),
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${grant.partitionKeyPrefix}*`] },
          },
        });
      }
    },
  );

  it('lets only CompleteMediaUpload list upload parts, and the sweeper abort uploads, under uploads/', () => {
    const uploads = {
      'Fn::Join': [
        '',
        [{ 'Fn::GetAtt': [logicalId(stack, stack.media.bucket), 'Arn'] }, '/uploads/*'],
      ],
    };
    const holders = (action: string) =>
      allFunctions()
        .filter((fn) => statements(fn).some((s) => [s.Action].flat().includes(action)))
        .map((fn) => fn.spec.id)
        .sort();
    expect(holders('s3:ListMultipartUploadParts')).toEqual(['CompleteMediaUpload']);
    // CDK merges statements on the same resource, so look for the action in any of them.
    const onUploads = (fn: ChirpFunction, action: string) =>
      statements(fn).filter(
        (st) =>
          [st.Action].flat().includes(action) &&
          JSON.stringify(st.Resource) === JSON.stringify(uploads),
      );
    expect(
      onUploads(stack.api.functions.get('CompleteMediaUpload')!, 's3:ListMultipartUploadParts'),
    ).toHaveLength(1);
    expect(onUploads(stack.mediaSweeper.function, 's3:AbortMultipartUpload')).toHaveLength(1);
  });

  it('lets only the media sweeper list the bucket, and only under the variant prefixes', () => {
    const listers = allFunctions().filter((fn) =>
      statements(fn).some((s) => [s.Action].flat().includes('s3:ListBucket')),
    );
    // (The transcoder's L2 grantRead also carries s3:List* on the bucket, which HeadObject needs
    // to answer 404 rather than 403 for a missing upload.)
    expect(listers.map((fn) => fn.spec.id).sort()).toEqual(['MediaSweeper']);
    expect(statements(stack.mediaSweeper.function)).toContainEqual({
      Action: 's3:ListBucket',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, stack.media.bucket), 'Arn'] },
      Condition: { StringLike: { 's3:prefix': ['staged/*', 'media/*'] } },
    });
  });
});

describe('media publisher', () => {
  it('consumes the metadata stream, media items only, in order, with retries and a failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, stack.mediaPublisher.function) },
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(stack, stack.tables.table(METADATA_TABLE)), 'StreamArn'],
      },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: 'MEDIA#' }] } } } }),
          },
        ],
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      BatchSize: MEDIA_PUBLISHER_FUNCTION.streamSource.batchSize,
      MaximumRecordAgeInSeconds: 6 * 60 * 60,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [logicalId(stack, stack.mediaPublisher.failures.queue), 'Arn'],
          },
        },
      },
    });
    expect(stack.mediaPublisher.function.spec).toBe(MEDIA_PUBLISHER_FUNCTION);
  });
});

describe('fanout', () => {
  it('consumes the tweets stream with per-record failures, bisection, retries through outages and a failure queue', () => {
    // The fanout's, and the media publisher's on the metadata table.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, stack.fanout.function) },
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(stack, stack.tables.table(TWEETS_TABLE)), 'StreamArn'],
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      // The model's event source, which the local stream pump reads too: no batching window, so a
      // tweet reaches timelines a poll after it is written.
      BatchSize: FANOUT_FUNCTION.streamSource.batchSize,
      MaximumBatchingWindowInSeconds: Match.absent(),
      // No attempt cap: a record is retried until it is six hours old.
      MaximumRetryAttempts: Match.absent(),
      MaximumRecordAgeInSeconds: 6 * 60 * 60,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [logicalId(stack, stack.fanout.failures.queue), 'Arn'] },
        },
      },
    });
    expect(stack.fanout.function.spec).toBe(FANOUT_FUNCTION);
  });

  it('paces its deliveries to its share of the cache ECPU cap, both sized from the measured ECPU per delivery', () => {
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      CacheUsageLimits: Match.objectLike({
        ECPUPerSecond: { Maximum: CACHE_SIZING.maxEcpuPerSecondDefault },
      }),
    });
    const pace = fanoutDeliveriesPerSecond(CACHE_SIZING.maxEcpuPerSecondDefault);
    expect(environment(stack.fanout.function).FANOUT_DELIVERIES_PER_SECOND).toBe(String(pace));
    // Within the cap with room for reads, and a 10,000-follower fanout within the 2 s promise.
    expect(pace * CACHE_SIZING.ecpuPerFanoutDelivery).toBeLessThanOrEqual(
      CACHE_SIZING.maxEcpuPerSecondDefault / 2,
    );
    expect(LIMITS.fanoutMaxFollowersDefault / pace).toBeLessThanOrEqual(2);
  });
});

describe('transcoder', () => {
  it('is sized for video: at least 1024 MB, 60 s and 2 GiB of ephemeral storage', () => {
    const props = functionResource(stack.transcoder.function);
    expect(props.MemorySize).toBe(TRANSCODER_FUNCTION.memoryMb);
    expect(props.MemorySize as number).toBeGreaterThanOrEqual(1024);
    expect(props.Timeout as number).toBeGreaterThanOrEqual(60);
    const storage = (props.EphemeralStorage as { Size: number }).Size;
    // A 512 MiB original plus its output must fit.
    expect(storage).toBeGreaterThanOrEqual(2048);
    expect(storage * 1024 * 1024).toBeGreaterThan(2 * (LIMITS.mediaTypes['video/mp4'] ?? 0));
  });

  it('deploys on new accounts by default: 3008 MB, and reserves concurrency so uploads cannot starve the API', () => {
    expect(TRANSCODER_FUNCTION.memoryMb).toBe(3008);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'Transcoder' }) },
      MemorySize: 3008,
      ReservedConcurrentExecutions: TRANSCODER_RESERVED_CONCURRENCY,
    });
    // No other function reserves concurrency.
    const reserving = resourcesOfType(template, 'AWS::Lambda::Function').filter(
      ([, r]) => r.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserving).toHaveLength(1);
  });

  it('takes its memory and reserved concurrency from context, and refuses nonsense', () => {
    const custom = synthChirp({
      context: { transcoderMemoryMb: '3538', transcoderReservedConcurrency: '0' },
    });
    try {
      const props = resourcesOfType(custom.template, 'AWS::Lambda::Function').find(
        ([, r]) =>
          (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
            ?.Variables?.POWERTOOLS_SERVICE_NAME === 'Transcoder',
      )![1].Properties;
      expect(props.MemorySize).toBe(TRANSCODER_TWO_VCPU_MEMORY_MB);
      expect(props.ReservedConcurrentExecutions).toBeUndefined();
    } finally {
      fs.rmSync(custom.outdir, { recursive: true, force: true });
    }
    expect(() => synthChirp({ context: { transcoderMemoryMb: '3.5GB' } })).toThrow(
      /transcoderMemoryMb must be an integer from 128 to 10240/,
    );
  });

  it('retries asynchronously, then sends the event to a failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, stack.transcoder.function) },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [logicalId(stack, stack.transcoder.failures.queue), 'Arn'],
          },
        },
      },
    });
  });

  it('takes sharp and ffmpeg/ffprobe from the arm64 media-tools layer', () => {
    const props = functionResource(stack.transcoder.function);
    expect(props.Layers).toEqual([{ Ref: logicalId(stack, stack.transcoder.layer) }]);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      CompatibleRuntimes: ['nodejs24.x'],
    });
    expect(environment(stack.transcoder.function)).toMatchObject({
      FFMPEG_PATH: '/opt/bin/ffmpeg',
      FFPROBE_PATH: '/opt/bin/ffprobe',
    });
  });
});

describe('media sweeper', () => {
  it('runs on the schedule the model sets', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${MEDIA_SWEEPER_FUNCTION.scheduleMinutes} minutes)`,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, stack.mediaSweeper.function), 'Arn'] },
        }),
      ],
    });
  });
});

describe('outputs', () => {
  it("exports the API URL, CDN domain, user pool and client ids (the verifier's too), bucket and table names, dashboard and alarm topic", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'CdnDomain',
        'DashboardName',
        'MediaBucketName',
        'MetadataTableName',
        'TweetsTableName',
        'UserPoolClientId',
        'UserPoolId',
        'VerifyClientId',
        'WebAppUrl',
      ].sort(),
    );
    expect(outputs.CdnDomain!.Value).toEqual({
      'Fn::GetAtt': [logicalId(stack, stack.cdn.distribution), 'DomainName'],
    });
    expect(outputs.UserPoolId!.Value).toEqual({ Ref: logicalId(stack, stack.api.userPool) });
    expect(outputs.MediaBucketName!.Value).toEqual({ Ref: logicalId(stack, stack.media.bucket) });
    expect(outputs.VerifyClientId!.Value).toEqual({
      Ref: logicalId(stack, stack.api.verifyClient),
    });
    // `npm run verify -- --outputs` reads these names from `cdk deploy --outputs-file`.
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(Object.values(STACK_OUTPUT_KEYS)));
  });
});
