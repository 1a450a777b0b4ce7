/**
 * ElastiCache IAM authentication tokens: a SigV4-presigned `connect` request for the cache,
 * without the scheme, valid for 15 minutes for new connections. Signed with the SDK's own signer
 * (@smithy/signature-v4), as AWS's documentation does; clients.ts loads this module on the first
 * connection, so a function without IAM auth never loads the signer.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How long a token lets a client open new connections. */
export const TOKEN_VALIDITY_SECONDS = 900;

/** Lambda puts the function's role credentials in these variables. */
function credentialsFromEnv(): AwsCredentials {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for IAM auth');
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
}

export async function elastiCacheIamToken(options: {
  readonly cacheName: string;
  readonly userId: string;
  readonly region?: string;
  readonly credentials?: AwsCredentials;
  /** Signing time; now unless given (tests). */
  readonly date?: Date;
}): Promise<string> {
  const signer = new SignatureV4({
    service: 'elasticache',
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    credentials: options.credentials ?? credentialsFromEnv(),
    sha256: Sha256,
  });
  const request: HttpRequest = {
    method: 'GET',
    protocol: 'http:',
    hostname: options.cacheName,
    path: '/',
    query: { Action: 'connect', User: options.userId, ResourceType: 'ServerlessCache' },
    headers: { host: options.cacheName },
  };
  const signed = await signer.presign(request, {
    expiresIn: TOKEN_VALIDITY_SECONDS,
    ...(options.date ? { signingDate: options.date } : {}),
  });
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `${options.cacheName}/?${query}`;
}
