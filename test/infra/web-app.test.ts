/**
 * The web app's hosting, synthesized: its own CloudFront distribution over a private bucket with
 * OAC, the build deployed with config.json and a CSP naming only the API, the upload bucket, the
 * CDN and Cognito, its URL as an output and in the CORS origins, and Cognito managed login with an
 * authorization-code client for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { ChirpStack } from '../../lib/chirp-stack';
import { logicalId, resourcesOfType, synthChirp, type Synthesized } from './synth';

let synthesized: Synthesized;
let template: Template;
let stack: ChirpStack;
let webOrigin: unknown;

beforeAll(() => {
  synthesized = synthChirp();
  ({ template, stack } = synthesized);
  webOrigin = stack.resolve(stack.webApp.url);
});
afterAll(() => fs.rmSync(synthesized.outdir, { recursive: true, force: true }));

/** Files of the synthesized assets whose name is `name`. */
function assetFiles(name: string): string[] {
  return fs
    .readdirSync(synthesized.outdir)
    .filter((entry) => entry.startsWith('asset.'))
    .map((entry) => path.join(synthesized.outdir, entry, name))
    .filter((file) => fs.existsSync(file));
}

it('serves the app from its own distribution, over a private bucket through OAC', () => {
  const bucket = logicalId(stack, stack.webApp.bucket);
  template.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: Match.objectLike({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    }),
  });
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      DefaultRootObject: 'index.html',
      Origins: [
        Match.objectLike({
          DomainName: { 'Fn::GetAtt': [bucket, 'RegionalDomainName'] },
          OriginAccessControlId: Match.anyValue(),
        }),
      ],
      DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
    }),
  });
  // Not the media distribution: the app and user media keep different origins.
  expect(logicalId(stack, stack.webApp.distribution)).not.toBe(
    logicalId(stack, stack.cdn.distribution),
  );
});

it('deploys the build, config.json and index.html, and invalidates the cache', () => {
  template.hasResourceProperties('Custom::CDKBucketDeployment', {
    DestinationBucketName: { Ref: logicalId(stack, stack.webApp.bucket) },
    DistributionPaths: ['/*'],
  });
  const deployment = resourcesOfType(template, 'Custom::CDKBucketDeployment')[0]?.[1];
  // The build, index.html (with the CSP) and config.json.
  expect(deployment?.Properties.SourceObjectKeys).toHaveLength(3);
  const configs = assetFiles('config.json');
  expect(configs).toHaveLength(1);
  const config: unknown = JSON.parse(fs.readFileSync(configs[0] as string, 'utf8'));
  expect(config).toMatchObject({
    auth: { mode: 'cognito', scope: 'openid email profile' },
  });
});

it('sends a CSP allowing only the app, the API, the upload bucket, the CDN and Cognito', () => {
  const pages = assetFiles('index.html').map((file) => fs.readFileSync(file, 'utf8'));
  const page = pages.find((html) => html.includes('Content-Security-Policy'));
  expect(page).toBeDefined();
  const csp = /content="([^"]+)"/.exec(page as string)?.[1] ?? '';
  const directives = Object.fromEntries(
    csp.split('; ').map((directive): [string, string[]] => {
      const [name = '', ...sources] = directive.split(' ');
      return [name, sources];
    }),
  );
  expect(directives['default-src']).toEqual(["'self'"]);
  expect(directives['script-src']).toEqual(["'self'"]);
  // Tokens stand for the API URL, the bucket's domain, the CDN and the login domain until deploy.
  expect(directives['connect-src']).toHaveLength(5);
  expect(directives['connect-src']).toContain('https://cognito-idp.us-east-1.amazonaws.com');
  expect(directives['img-src']).toHaveLength(4);
  expect(csp).not.toMatch(/\*|unsafe/);
  template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
    ResponseHeadersPolicyConfig: Match.objectLike({
      SecurityHeadersConfig: Match.objectLike({
        ContentSecurityPolicy: {
          ContentSecurityPolicy: "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
          Override: true,
        },
      }),
    }),
  });
});

it("puts the app's URL in the outputs and in the API's and the bucket's CORS origins", () => {
  template.hasOutput('WebAppUrl', { Value: webOrigin });
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
    CorsConfiguration: Match.objectLike({ AllowOrigins: [webOrigin] }),
  });
  template.hasResourceProperties('AWS::S3::Bucket', {
    CorsConfiguration: {
      CorsRules: [Match.objectLike({ AllowedMethods: ['PUT'], AllowedOrigins: [webOrigin] })],
    },
  });
});

it('signs in through Cognito managed login: a domain and a code-flow client for the app', () => {
  template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
    ManagedLoginVersion: 2,
    UserPoolId: { Ref: Match.anyValue() },
  });
  const callback = {
    'Fn::Join': ['', [...(webOrigin as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1], '/']],
  };
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    CallbackURLs: [callback],
    LogoutURLs: [callback],
    GenerateSecret: false,
    SupportedIdentityProviders: ['COGNITO'],
  });
  template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
    UseCognitoProvidedValues: true,
  });
  // The API accepts the web client's access tokens.
  template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    JwtConfiguration: Match.objectLike({
      Audience: Match.arrayWith([{ Ref: logicalId(stack, stack.api.webLogin!.client) }]),
    }),
  });
});
