/**
 * The HTTP API JWT authorizer, locally: the same checks API Gateway makes before a route's Lambda
 * runs. Token from the Authorization header (a "Bearer " prefix is optional, as in API Gateway);
 * RS256 only; `kid` must name a key of the issuer's JWKS; signature, `iss`, `aud` (or, only when
 * there is no `aud`, `client_id`), `exp` (required), `nbf`, and `iat` (not in the future) checked;
 * a `sub` that is not a string is refused. Any failure is a 401 before the handler
 * runs. Claims reach the handler as strings, as API Gateway flattens them.
 */
import { createLocalJWKSet, exportJWK, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, type SigningKey } from './jwt';

export interface AuthorizedCaller {
  readonly claims: Record<string, string>;
  readonly scopes: string[];
}

export type JwtAuthorizer = (
  authorization: string | undefined,
) => Promise<AuthorizedCaller | undefined>;

/** How API Gateway renders a claim value in requestContext.authorizer.jwt.claims. */
function claimToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(claimToString).join(' ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s !== '');
  if (Array.isArray(raw)) return raw.map(String);
  return [];
}

export async function createJwtAuthorizer(
  key: Pick<SigningKey, 'kid' | 'publicKeyPem'>,
  options: { issuer?: string; audience?: string } = {},
): Promise<JwtAuthorizer> {
  const issuer = options.issuer ?? LOCAL_JWT_ISSUER;
  const audience = options.audience ?? LOCAL_JWT_AUDIENCE;
  const publicJwk = await exportJWK(await importSPKI(key.publicKeyPem, 'RS256'));
  const jwks = createLocalJWKSet({
    keys: [{ ...publicJwk, kid: key.kid, alg: 'RS256', use: 'sig' }],
  });

  // Verified tokens by Authorization header, so a client reusing its token costs one RS256 check,
  // not one per request (WebCrypto verification cost more than the whole cached GET /v1/tweets;
  // see bench/README.md). A hit still checks expiry; nbf/iat/signature/claims cannot change for
  // the same header, and only headers that passed every check are remembered.
  const verified = new Map<string, { caller: AuthorizedCaller; expiresAtMs: number }>();
  const VERIFIED_MAX = 10_000;

  return async (authorization) => {
    if (authorization === undefined) return undefined;
    const known = verified.get(authorization);
    if (known !== undefined) {
      // Each event gets its own claims object, as from API Gateway.
      if (Date.now() < known.expiresAtMs) {
        return { claims: { ...known.caller.claims }, scopes: [...known.caller.scopes] };
      }
      verified.delete(authorization);
    }
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    if (token === '' || token.split('.').length !== 3) return undefined;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
      });
      if (protectedHeader.kid === undefined) return undefined;
      // API Gateway evaluates `aud` when the token has one, and `client_id` (access tokens) only
      // when it has none.
      const audiences =
        payload.aud !== undefined
          ? [payload.aud].flat()
          : typeof payload.client_id === 'string'
            ? [payload.client_id]
            : [];
      if (!audiences.includes(audience)) return undefined;
      // `iat` must be before the current time (jose checks only its type).
      if (typeof payload.iat === 'number' && payload.iat * 1000 > Date.now()) return undefined;
      // RFC 7519 makes `sub` a string, and Cognito issues nothing else; a token with another
      // type would otherwise reach the handler flattened to a string (123 -> "123").
      if (payload.sub !== undefined && typeof payload.sub !== 'string') return undefined;
      const claims: Record<string, string> = {};
      for (const [name, value] of Object.entries(payload)) claims[name] = claimToString(value);
      const caller = { claims, scopes: scopesOf(payload) };
      if (verified.size >= VERIFIED_MAX) verified.clear();
      verified.set(authorization, { caller, expiresAtMs: Number(payload.exp) * 1000 });
      return caller;
    } catch {
      return undefined;
    }
  };
}
