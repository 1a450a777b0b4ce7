// Own code: jose is ESM-only and Jest runs CommonJS; RS256 minting is a few lines of node:crypto (docs/own-code.md).
/**
 * The local identity provider: an RS256 key pair kept in the data dir, and tokens signed with it.
 * The API emulator verifies them like the HTTP API JWT authorizer (jwt-authorizer.ts); `npm run
 * token` mints them. Only node:crypto here, so tests (Jest, CommonJS) can mint tokens too.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The issuer and audience the local authorizer is configured with, like the CDK's authorizer. */
export const LOCAL_JWT_ISSUER = 'https://auth.chirp.local/';
export const LOCAL_JWT_AUDIENCE = 'chirp-api';
/** @default lifetime of minted tokens */
export const DEFAULT_TOKEN_TTL_SECONDS = 12 * 60 * 60;

export interface SigningKey {
  readonly kid: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export const signingKeyPath = (dataDir: string): string => join(dataDir, 'jwt', 'signing-key.json');

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    kid: createHash('sha256').update(publicKeyPem).digest('base64url').slice(0, 16),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem,
  };
}

/** Reads the stack's signing key, or undefined when the stack never ran with this data dir. */
export function readSigningKey(dataDir: string): SigningKey | undefined {
  const path = signingKeyPath(dataDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as SigningKey;
}

/** The key persists with the data dir, so tokens minted earlier keep working after a restart. */
export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  const existing = readSigningKey(dataDir);
  if (existing !== undefined) return existing;
  const key = generateSigningKey();
  mkdirSync(join(dataDir, 'jwt'), { recursive: true });
  writeFileSync(signingKeyPath(dataDir), JSON.stringify(key, null, 2), { mode: 0o600 });
  return key;
}

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Signs arbitrary header and claims with RS256; tests use it to forge bad tokens too. */
export function signJwt(
  privateKeyPem: string,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): string {
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), createPrivateKey(privateKeyPem));
  return `${signingInput}.${signature.toString('base64url')}`;
}

export interface MintOptions {
  /** @default DEFAULT_TOKEN_TTL_SECONDS */
  readonly ttlSeconds?: number;
  /** Extra or overriding claims. */
  readonly claims?: Record<string, unknown>;
}

/** A token the local authorizer accepts, for `sub` = userId. */
export function mintToken(key: SigningKey, userId: string, options: MintOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    key.privateKeyPem,
    { alg: 'RS256', typ: 'JWT', kid: key.kid },
    {
      iss: LOCAL_JWT_ISSUER,
      aud: LOCAL_JWT_AUDIENCE,
      sub: userId,
      iat: now,
      exp: now + (options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
      scope: 'chirp/api',
      ...options.claims,
    },
  );
}
