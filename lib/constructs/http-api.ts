import { Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_CORS, type RouteSpec } from '../../app/model';
import { ChirpFunction, type ChirpResources } from './chirp-function';

export interface ChirpApiProps {
  /** The app model's routes; one function and one route each, all behind the JWT authorizer. */
  readonly routes: readonly RouteSpec[];
  readonly resources: ChirpResources;
  /** Browser origins allowed by CORS preflight. @default - none (no CORS) */
  readonly corsOrigins?: readonly string[];
  /** Steady-state requests per second for the stage. @default 200 */
  readonly throttlingRateLimit?: number;
  /** Burst for the stage. @default 400 */
  readonly throttlingBurstLimit?: number;
  /** Directory the routes' entry paths are relative to. @default the repository root */
  readonly projectRoot?: string;
  /** Extra environment of every route function (per-user limits). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The web app's URL: adds Cognito managed login (a user pool domain) and an app client for it
   * (authorization code + PKCE, this URL as callback and logout URL). @default - none
   */
  readonly webAppUrl?: string;
}

/**
 * The HTTP API (API Gateway v2): a Cognito user pool and app client, a JWT authorizer that every
 * route requires (the caller is the token's `sub`), one Lambda per route generated from the app
 * model, and a `$default` stage with JSON access logs and default throttling.
 */
export class ChirpApi extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  /** The web app's client and managed login domain (https://...), when webAppUrl is given. */
  public readonly webLogin?: {
    readonly client: cognito.UserPoolClient;
    readonly domainUrl: string;
  };
  /**
   * The post-deploy check's client (`npm run verify`): only ADMIN_USER_PASSWORD_AUTH, which needs
   * IAM credentials allowed cognito-idp:AdminInitiateAuth on the pool, so no public caller can
   * use it (and whoever can already sets any user's password with AdminSetUserPassword).
   */
  public readonly verifyClient: cognito.UserPoolClient;
  public readonly authorizer: HttpJwtAuthorizer;
  /** The user pool's issuer URL (the JWT authorizer's, and the OIDC authority). */
  public readonly issuer: string;
  /** Route functions by the route's id. */
  public readonly functions: ReadonlyMap<string, ChirpFunction>;
  /** Base URL of the stage, e.g. https://abc.execute-api.us-east-1.amazonaws.com/ */
  public readonly url: string;
  /** The one stage (its metrics: 5xx, latency). */
  public readonly stage: apigwv2.HttpStage;

  constructor(scope: Construct, id: string, props: ChirpApiProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true, username: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'Consumer sign-up: MFA is offered (TOTP) but not forced, as on comparable social networks; threat protection runs in full-function mode (adaptive authentication, compromised-credential checks) to cover the gap.',
    });
    this.userPoolClient = this.userPool.addClient('AppClient', {
      // Public client (browser, mobile): no secret it could not keep.
      generateSecret: false,
      authFlows: { userSrp: true },
      // Sign-in by SRP only: without this CDK enables the implicit and code grants with an
      // example.com callback (the web app has its own client for the managed login).
      disableOAuth: true,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    this.verifyClient = this.userPool.addClient('VerifyClient', {
      generateSecret: false,
      // The app client allows only SRP, which the AWS SDK does not implement.
      authFlows: { adminUserPassword: true },
      // Without this CDK enables the implicit and code grants with an example.com callback.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      // A verify run takes minutes; its users are deleted at its end.
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(1),
    });
    if (props.webAppUrl !== undefined) this.webLogin = this.addWebLogin(props.webAppUrl);

    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.authorizer = new HttpJwtAuthorizer('CognitoJwt', this.issuer, {
      // Cognito access tokens carry the app client in client_id, which API Gateway checks here.
      jwtAudience: [
        this.userPoolClient.userPoolClientId,
        ...(this.webLogin !== undefined ? [this.webLogin.client.userPoolClientId] : []),
        this.verifyClient.userPoolClientId,
      ],
      identitySource: ['$request.header.Authorization'],
    });

    const corsOrigins = props.corsOrigins ?? [];
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Chirp HTTP API',
      createDefaultStage: false,
      defaultAuthorizer: this.authorizer,
      corsPreflight:
        corsOrigins.length > 0
          ? {
              allowOrigins: [...corsOrigins],
              allowMethods: API_CORS.allowMethods.map((method) => method as apigwv2.CorsHttpMethod),
              allowHeaders: [...API_CORS.allowHeaders],
              exposeHeaders: [...API_CORS.exposeHeaders],
              maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
            }
          : undefined,
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 200,
        burstLimit: props.throttlingBurstLimit ?? 400,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });
    this.url = stage.url;
    this.stage = stage;

    const functions = new Map<string, ChirpFunction>();
    for (const route of props.routes) {
      const fn = new ChirpFunction(this, route.id, {
        spec: route,
        resources: props.resources,
        projectRoot: props.projectRoot,
        ...(props.environment !== undefined ? { environment: props.environment } : {}),
      });
      functions.set(route.id, fn);
      this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
        authorizer: this.authorizer,
      });
    }
    this.functions = functions;
  }

  /**
   * Managed login for the web app: a Cognito domain (its prefix made unique by the stack id's
   * UUID), a public client with the authorization code flow (PKCE: Cognito requires it of a
   * client without a secret that sends a code_challenge; oidc-client-ts always does) and the
   * app's URL as callback and logout URL, and the managed login's default branding.
   */
  private addWebLogin(webAppUrl: string) {
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const domain = this.userPool.addDomain('LoginDomain', {
      cognitoDomain: { domainPrefix: Fn.join('-', ['chirp', stackUuid]) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    const client = this.userPool.addClient('WebClient', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${webAppUrl}/`],
        logoutUrls: [`${webAppUrl}/`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });
    new cognito.CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    return { client, domainUrl: domain.baseUrl() };
  }
}
