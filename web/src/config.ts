/**
 * The app's runtime configuration, read from /config.json beside index.html: written by the local
 * stack's app server (npm start) or by the CDK stack at deploy time, so one build serves both.
 */
export interface LocalAuth {
  readonly mode: 'local';
  /** POST {"user_id"} here (same origin as the app) for a token the local API accepts. */
  readonly tokenUrl: string;
}

export interface CognitoAuth {
  readonly mode: 'cognito';
  /** The user pool's issuer, https://cognito-idp.<region>.amazonaws.com/<pool id>. */
  readonly authority: string;
  readonly clientId: string;
  /** The managed login domain, https://<prefix>.auth.<region>.amazoncognito.com. */
  readonly domain: string;
  readonly scope: string;
}

export interface AppConfig {
  readonly apiUrl: string;
  readonly cdnUrl: string;
  readonly auth: LocalAuth | CognitoAuth;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return (await response.json()) as AppConfig;
}
