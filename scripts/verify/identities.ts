/**
 * Where the verifier's temporary users and their tokens come from: the one thing that differs
 * between a deployment (Cognito, through the AWS SDK's admin API) and the local stack (its token
 * issuer). Everything else the verifier does is the same HTTP against the API and the CDN.
 */
import { randomBytes } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';

export interface TemporaryUser {
  /** The API's user id: the `sub` of the user's tokens. */
  readonly userId: string;
  /** The name the identity source knows the user by (Cognito's username). */
  readonly username: string;
}

export interface IdentitySource {
  /** For the progress output, e.g. "Cognito user pool us-east-1_abc (admin API)". */
  readonly description: string;
  /** Creates a user; from then on it must be deleted, whatever happens next. */
  createUser(name: string): Promise<TemporaryUser>;
  /** A bearer token the API's authorizer accepts for the user. */
  signIn(user: TemporaryUser): Promise<string>;
  /** Removes the user; returns what it did, for the progress output. */
  deleteUser(user: TemporaryUser): Promise<string>;
}

/** The `sub` claim of a JWT, unverified: the API verifies; the verifier only compares. */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A password the stack's policy accepts (12+ characters with lower, upper, digit and symbol),
 * random per user; it is never printed or stored.
 */
export const temporaryPassword = (): string => `${randomBytes(24).toString('base64url')}aA1!`;

export interface CognitoIdentitiesOptions {
  readonly client: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  /** The stack's verifier client (VerifyClientId): the one that allows ADMIN_USER_PASSWORD_AUTH. */
  readonly clientId: string;
  /** Makes usernames unique to this run, e.g. a random hex string. */
  readonly runId: string;
}

/**
 * Cognito users through the admin API (the caller's IAM credentials): AdminCreateUser without an
 * invitation, AdminSetUserPassword as permanent (so no NEW_PASSWORD_REQUIRED challenge), then
 * AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH on the stack's verifier client, which allows only
 * that flow. The API accepts the access token: its `client_id` is in the authorizer's audience.
 */
export class CognitoIdentities implements IdentitySource {
  readonly description: string;
  private readonly passwords = new Map<string, string>();

  constructor(private readonly options: CognitoIdentitiesOptions) {
    this.description = `Cognito user pool ${options.userPoolId}, client ${options.clientId} (admin API)`;
  }

  async createUser(name: string): Promise<TemporaryUser> {
    const { client, userPoolId, runId } = this.options;
    const username = `chirp-verify-${runId}-${name}`;
    const password = temporaryPassword();
    const created = await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        // No invitation: the user has no email and never signs in anywhere else.
        MessageAction: 'SUPPRESS',
        TemporaryPassword: temporaryPassword(),
      }),
    );
    try {
      const userId = created.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (userId === undefined) {
        throw new Error(`AdminCreateUser answered no sub attribute for ${username}`);
      }
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: username,
          Password: password,
          Permanent: true,
        }),
      );
      this.passwords.set(username, password);
      return { userId, username };
    } catch (error) {
      // The caller never learns of this user: remove it here (best effort), then report.
      await client
        .send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: username }))
        .catch(() => undefined);
      throw error;
    }
  }

  async signIn(user: TemporaryUser): Promise<string> {
    const { client, userPoolId, clientId } = this.options;
    const password = this.passwords.get(user.username);
    if (password === undefined) throw new Error(`${user.username} was not created by this run`);
    const answer = await client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: userPoolId,
        ClientId: clientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: user.username, PASSWORD: password },
      }),
    );
    if (answer.ChallengeName !== undefined) {
      throw new Error(
        `Cognito asked ${user.username} for ${answer.ChallengeName} instead of signing in ` +
          '(MFA required, or threat protection blocked the sign-in?)',
      );
    }
    const token = answer.AuthenticationResult?.AccessToken;
    if (token === undefined) throw new Error(`AdminInitiateAuth answered no access token`);
    return token;
  }

  async deleteUser(user: TemporaryUser): Promise<string> {
    const { client, userPoolId } = this.options;
    await client.send(
      new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: user.username }),
    );
    this.passwords.delete(user.username);
    return `deleted Cognito user ${user.username}`;
  }
}

/**
 * The local stack's issuer: the web app server's POST /_local/token (the local stand-in for
 * Cognito's sign-in) signs a token for any user id. The local issuer keeps no users, so there is
 * nothing to create or delete.
 */
export class LocalIdentities implements IdentitySource {
  readonly description: string;

  constructor(
    private readonly tokenUrl: string,
    private readonly runId: string,
  ) {
    this.description = `local token issuer ${tokenUrl}`;
  }

  createUser(name: string): Promise<TemporaryUser> {
    const id = `verify-${this.runId}-${name}`;
    return Promise.resolve({ userId: id, username: id });
  }

  async signIn(user: TemporaryUser): Promise<string> {
    const response = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user.userId }),
    });
    if (!response.ok) {
      throw new Error(`${this.tokenUrl} answered ${response.status}: ${await response.text()}`);
    }
    const { token } = (await response.json()) as { token?: unknown };
    if (typeof token !== 'string') throw new Error(`${this.tokenUrl} answered no token`);
    return token;
  }

  deleteUser(user: TemporaryUser): Promise<string> {
    return Promise.resolve(`${user.username}: the local issuer keeps no users`);
  }
}
