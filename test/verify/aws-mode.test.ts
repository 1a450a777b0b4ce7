/**
 * The verifier's AWS mode without an AWS account: the Cognito calls go through the real SDK client
 * and its typed commands, and aws-sdk-client-mock answers them at `send` (mocked because no
 * account exists here; the local stack has no Cognito). The tests pin the exact inputs the
 * verifier sends and feed it answers shaped like the real API's (from the Cognito API reference's
 * examples), including the ones that must stop it: a challenge instead of tokens, a failure
 * halfway through creating a user. The last ones run the whole verifier with Cognito identities
 * against the local stack (the mock hands out tokens of the local issuer): the users it created
 * are deleted through AdminDeleteUser, after a failed sign-in too.
 */
import { expect } from '@jest/globals';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InvalidPasswordException,
  NotAuthorizedException,
  type AdminCreateUserCommandOutput,
  type AdminInitiateAuthCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { randomUUID } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { CognitoIdentities, tokenSubject } from '../../scripts/verify/identities';
import { deployedTarget, readStackOutputs } from '../../scripts/verify/targets';
import { verifyDeployment } from '../../scripts/verify/verifier';
import { apiUrl, cdnUrl, mintToken } from '../support/env';

const USER_POOL_ID = 'eu-west-1_AbCdEf123';
const CLIENT_ID = '4k7q9ba3vjcn0fqm1ljb0l8h2e';
const SUB = 'a4d8e4b8-5031-70d2-3c6e-1f0a2b3c4d5e';

const cognito = mockClient(CognitoIdentityProviderClient);

/** A JWT-shaped access token (header.payload.signature) as Cognito issues it, unsigned here. */
const accessToken = (sub: string) =>
  [
    Buffer.from(JSON.stringify({ kid: 'k1', alg: 'RS256' })).toString('base64url'),
    Buffer.from(
      JSON.stringify({
        sub,
        iss: `https://cognito-idp.eu-west-1.amazonaws.com/${USER_POOL_ID}`,
        client_id: CLIENT_ID,
        token_use: 'access',
        scope: 'aws.cognito.signin.user.admin',
        username: 'chirp-verify-0a1b2c3d-author',
      }),
    ).toString('base64url'),
    'c2lnbmF0dXJl',
  ].join('.');

const metadata = { httpStatusCode: 200, requestId: 'b1b7a1c4-0d3e-4b6a-9d6f-0e1f2a3b4c5d' };

/** AdminCreateUser's answer: the user with its generated sub, waiting for a password change. */
const createdUser = (username: string, sub = SUB): AdminCreateUserCommandOutput => ({
  $metadata: metadata,
  User: {
    Username: username,
    Attributes: [{ Name: 'sub', Value: sub }],
    UserCreateDate: new Date('2026-12-04T17:00:00Z'),
    UserLastModifiedDate: new Date('2026-12-04T17:00:00Z'),
    Enabled: true,
    UserStatus: 'FORCE_CHANGE_PASSWORD',
  },
});

const signedIn: AdminInitiateAuthCommandOutput = {
  $metadata: metadata,
  ChallengeParameters: {},
  AuthenticationResult: {
    AccessToken: accessToken(SUB),
    ExpiresIn: 900,
    TokenType: 'Bearer',
    RefreshToken: 'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.refresh',
    IdToken: accessToken(SUB),
  },
};

const identities = () =>
  new CognitoIdentities({
    client: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
    userPoolId: USER_POOL_ID,
    clientId: CLIENT_ID,
    runId: '0a1b2c3d',
  });

beforeEach(() => cognito.reset());

describe('CognitoIdentities (the verifier against a deployment)', () => {
  it('creates a user without an invitation, makes its password permanent, signs in with ADMIN_USER_PASSWORD_AUTH and deletes it', async () => {
    const username = 'chirp-verify-0a1b2c3d-author';
    cognito.on(AdminCreateUserCommand).resolves(createdUser(username));
    cognito.on(AdminSetUserPasswordCommand).resolves({ $metadata: metadata });
    cognito.on(AdminInitiateAuthCommand).resolves(signedIn);
    cognito.on(AdminDeleteUserCommand).resolves({ $metadata: metadata });

    const source = identities();
    const user = await source.createUser('author');
    expect(user).toEqual({ userId: SUB, username });

    const create = cognito.commandCalls(AdminCreateUserCommand);
    expect(create).toHaveLength(1);
    const createInput = create[0]!.args[0].input;
    expect(createInput).toEqual({
      UserPoolId: USER_POOL_ID,
      Username: username,
      MessageAction: 'SUPPRESS',
      TemporaryPassword: expect.any(String),
    });

    const setPassword = cognito.commandCalls(AdminSetUserPasswordCommand);
    expect(setPassword).toHaveLength(1);
    const passwordInput = setPassword[0]!.args[0].input;
    expect(passwordInput).toEqual({
      UserPoolId: USER_POOL_ID,
      Username: username,
      Password: expect.any(String),
      Permanent: true,
    });
    // The stack's password policy: 12+ characters with lower, upper, digit and symbol.
    const password = passwordInput.Password!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    for (const kind of [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/]) expect(password).toMatch(kind);
    expect(password).not.toBe(createInput.TemporaryPassword);

    const token = await source.signIn(user);
    expect(token).toBe(signedIn.AuthenticationResult!.AccessToken);
    expect(tokenSubject(token)).toBe(SUB);
    const auth = cognito.commandCalls(AdminInitiateAuthCommand);
    expect(auth).toHaveLength(1);
    expect(auth[0]!.args[0].input).toEqual({
      UserPoolId: USER_POOL_ID,
      ClientId: CLIENT_ID,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });

    await expect(source.deleteUser(user)).resolves.toBe(`deleted Cognito user ${username}`);
    const deletes = cognito.commandCalls(AdminDeleteUserCommand);
    expect(deletes.map((call) => call.args[0].input)).toEqual([
      { UserPoolId: USER_POOL_ID, Username: username },
    ]);
  });

  it('refuses a challenge (MFA, a required password change) instead of tokens, naming it', async () => {
    cognito.on(AdminCreateUserCommand).resolves(createdUser('chirp-verify-0a1b2c3d-author'));
    cognito.on(AdminSetUserPasswordCommand).resolves({ $metadata: metadata });
    cognito.on(AdminInitiateAuthCommand).resolves({
      $metadata: metadata,
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'AYABeC1-session',
      ChallengeParameters: { USER_ID_FOR_SRP: 'chirp-verify-0a1b2c3d-author' },
    });
    const source = identities();
    const user = await source.createUser('author');
    await expect(source.signIn(user)).rejects.toThrow(/SOFTWARE_TOKEN_MFA instead of signing in/);
  });

  it('deletes a user it created when setting its password fails, so none is left behind', async () => {
    const username = 'chirp-verify-0a1b2c3d-author';
    cognito.on(AdminCreateUserCommand).resolves(createdUser(username));
    cognito.on(AdminSetUserPasswordCommand).rejects(
      new InvalidPasswordException({
        message: 'Password does not conform to policy: Password not long enough',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    cognito.on(AdminDeleteUserCommand).resolves({ $metadata: metadata });

    await expect(identities().createUser('author')).rejects.toThrow(/Password does not conform/);
    expect(cognito.commandCalls(AdminDeleteUserCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: USER_POOL_ID, Username: username },
    ]);
  });

  it('sends its calls to the user pool region of the stack outputs', async () => {
    const target = deployedTarget(
      readStackOutputs({
        Chirp: {
          ApiUrl: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/',
          CdnDomain: 'd111111abcdef8.cloudfront.net',
          UserPoolId: USER_POOL_ID,
          VerifyClientId: CLIENT_ID,
        },
      }),
      '0a1b2c3d',
    );
    expect(target.apiUrl).toBe('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com');
    expect(target.cdnUrl).toBe('https://d111111abcdef8.cloudfront.net');
    cognito.on(AdminCreateUserCommand).resolves(createdUser('chirp-verify-0a1b2c3d-author'));
    cognito.on(AdminSetUserPasswordCommand).resolves({ $metadata: metadata });
    await target.identities.createUser('author');
    const call = cognito.commandCalls(AdminCreateUserCommand)[0]!;
    expect(call.args[0].input.UserPoolId).toBe(USER_POOL_ID);
    // sinon types the call's `this` as any: it is the client the verifier created.
    const client = call.thisValue as CognitoIdentityProviderClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });
});

describe('readStackOutputs (cdk deploy --outputs-file)', () => {
  const outputs = {
    ApiUrl: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/',
    CdnDomain: 'd111111abcdef8.cloudfront.net',
    WebAppUrl: 'https://d222222abcdef8.cloudfront.net',
    UserPoolId: 'us-east-1_AbCdEf123',
    UserPoolClientId: '1example23456789',
    VerifyClientId: CLIENT_ID,
    MediaBucketName: 'chirp-mediabucket-1a2b3c4d5e6f',
    DashboardName: 'Chirp-us-east-1',
  };

  it('reads the only Chirp stack, or the one named, among other stacks', () => {
    const file = { Chirp: outputs, OtherStack: { BucketName: 'x' } };
    expect(readStackOutputs(file)).toEqual({
      stackName: 'Chirp',
      apiUrl: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      cdnUrl: 'https://d111111abcdef8.cloudfront.net',
      userPoolId: 'us-east-1_AbCdEf123',
      verifyClientId: CLIENT_ID,
      region: 'us-east-1',
    });
    const two = { ChirpProd: outputs, ChirpStaging: { ...outputs, UserPoolId: 'eu-west-1_Zz9' } };
    expect(() => readStackOutputs(two)).toThrow(/2 Chirp stacks .*--stack/);
    expect(readStackOutputs(two, 'ChirpStaging').region).toBe('eu-west-1');
    expect(() => readStackOutputs(two, 'Chirp')).toThrow(/no stack "Chirp"/);
  });

  it('names an output that is missing (a stack deployed before the verifier client)', () => {
    const { VerifyClientId: _, ...old } = outputs;
    expect(() => readStackOutputs({ Chirp: old })).toThrow(
      /no output VerifyClientId .*deploy again/,
    );
    expect(() => readStackOutputs({ Chirp: { ...outputs, UserPoolId: 'pool' } })).toThrow(
      /not a Cognito user pool id/,
    );
    expect(() => readStackOutputs([1, 2])).toThrow(/0 Chirp stacks/);
  });
});

describe('the verifier with Cognito identities, against the local stack', () => {
  /** Cognito answers as for a real pool; its access tokens are the local issuer's for that sub. */
  function cognitoOverLocalIssuer(failSignInOf?: string) {
    const subs = new Map<string, string>();
    cognito.on(AdminCreateUserCommand).callsFake((input: { Username: string }) => {
      const sub = randomUUID();
      subs.set(input.Username, sub);
      return createdUser(input.Username, sub);
    });
    cognito.on(AdminSetUserPasswordCommand).resolves({ $metadata: metadata });
    cognito
      .on(AdminInitiateAuthCommand)
      .callsFake((input: { AuthParameters: { USERNAME: string } }) => {
        const username = input.AuthParameters.USERNAME;
        if (username.endsWith(failSignInOf ?? '\0')) {
          throw new NotAuthorizedException({
            message: 'Incorrect username or password.',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return {
          ...signedIn,
          AuthenticationResult: {
            ...signedIn.AuthenticationResult,
            AccessToken: mintToken(subs.get(username)!),
          },
        };
      });
    cognito.on(AdminDeleteUserCommand).resolves({ $metadata: metadata });
  }

  const target = (runId: string) => ({
    ...deployedTarget(
      readStackOutputs({
        Chirp: {
          ApiUrl: 'https://unused.execute-api.eu-west-1.amazonaws.com/',
          CdnDomain: 'unused.cloudfront.net',
          UserPoolId: USER_POOL_ID,
          VerifyClientId: CLIENT_ID,
        },
      }),
      runId,
    ),
    // The local stack's HTTP endpoints instead of the outputs' https ones.
    apiUrl: apiUrl(),
    cdnUrl: cdnUrl(),
  });

  const deletedUsernames = () =>
    cognito.commandCalls(AdminDeleteUserCommand).map((call) => call.args[0].input.Username);

  it('passes, signed in as the Cognito users it created, and deletes them', async () => {
    cognitoOverLocalIssuer();
    const report = await verifyDeployment(target('c0ffee01'), 'c0ffee01');
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.created.users.map((user) => user.username)).toEqual([
      'chirp-verify-c0ffee01-author',
      'chirp-verify-c0ffee01-follower',
    ]);
    expect(deletedUsernames()).toEqual([
      'chirp-verify-c0ffee01-author',
      'chirp-verify-c0ffee01-follower',
    ]);
  }, 240_000);

  it('deletes both users when the second cannot sign in, and fails naming that step', async () => {
    cognitoOverLocalIssuer('-follower');
    const report = await verifyDeployment(target('c0ffee02'), 'c0ffee02');
    expect(report.ok).toBe(false);
    expect(report.checks.filter((check) => !check.ok)).toEqual([
      expect.objectContaining({
        name: 'sign in "follower"',
        detail: 'Incorrect username or password.',
      }),
    ]);
    expect(report.created.tweetIds).toEqual([]);
    expect(deletedUsernames()).toEqual([
      'chirp-verify-c0ffee02-author',
      'chirp-verify-c0ffee02-follower',
    ]);
  }, 60_000);
});
