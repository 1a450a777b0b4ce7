/**
 * Sign-in. Locally the stack mints a token for any user id you pick (its /_local/token route,
 * part of the local runtime, never of the Lambda handlers). On AWS, Cognito managed login with the
 * authorization code flow and PKCE through oidc-client-ts, loaded only in that mode so the local
 * bundle does not carry it.
 */
import type { AppConfig, CognitoAuth } from './config';

export interface Session {
  readonly userId: string;
  readonly token: string;
}

export interface Auth {
  /** The current session, or undefined when signed out. */
  current(): Promise<Session | undefined>;
  /** Local mode: sign in as this user id. Cognito mode: redirects to managed login. */
  signIn(userId?: string): Promise<Session | undefined>;
  signOut(): Promise<void>;
}

const LOCAL_KEY = 'chirp.session';

interface StoredSession extends Session {
  readonly expiresAt: number;
}

function localAuth(tokenUrl: string): Auth {
  return {
    current() {
      const raw = sessionStorage.getItem(LOCAL_KEY);
      if (raw === null) return Promise.resolve(undefined);
      const stored = JSON.parse(raw) as StoredSession;
      return Promise.resolve(stored.expiresAt > Date.now() + 60_000 ? stored : undefined);
    },
    async signIn(userId) {
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: userId }),
      });
      const body = (await response.json()) as {
        token?: string;
        expires_in?: number;
        error?: { message: string };
      };
      if (!response.ok || body.token === undefined) {
        throw new Error(body.error?.message ?? `sign-in failed: ${response.status}`);
      }
      const session: StoredSession = {
        userId: userId ?? '',
        token: body.token,
        expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
      };
      sessionStorage.setItem(LOCAL_KEY, JSON.stringify(session));
      return session;
    },
    signOut() {
      sessionStorage.removeItem(LOCAL_KEY);
      return Promise.resolve();
    },
  };
}

async function cognitoAuth(config: CognitoAuth): Promise<Auth> {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const appUrl = new URL('.', document.baseURI).href;
  const manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: appUrl,
    post_logout_redirect_uri: appUrl,
    response_type: 'code',
    scope: config.scope,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    // Cognito's discovery document has no end_session_endpoint; its managed logout is /logout.
    metadataSeed: {
      end_session_endpoint: `${config.domain}/logout?client_id=${encodeURIComponent(config.clientId)}&logout_uri=${encodeURIComponent(appUrl)}`,
    },
  });
  const params = new URLSearchParams(location.search);
  if (params.has('code') && params.has('state')) {
    await manager.signinRedirectCallback();
    history.replaceState(null, '', appUrl);
  }
  const session = async (): Promise<Session | undefined> => {
    const user = await manager.getUser();
    if (user === null || user.expired === true) return undefined;
    // The API's JWT authorizer takes the access token (audience: the app client).
    return { userId: user.profile.sub, token: user.access_token };
  };
  return {
    current: session,
    async signIn() {
      await manager.signinRedirect();
      return undefined;
    },
    async signOut() {
      await manager.removeUser();
      await manager.signoutRedirect();
    },
  };
}

export function createAuth(config: AppConfig): Promise<Auth> {
  return config.auth.mode === 'local'
    ? Promise.resolve(localAuth(config.auth.tokenUrl))
    : cognitoAuth(config.auth);
}
