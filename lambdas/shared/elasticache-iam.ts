import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Builds an ElastiCache IAM authentication token: a presigned `connect` request for the cache,
 * without the scheme. Valid for 15 minutes for new connections.
 */
export async function elastiCacheIamToken(options: {
  cacheName: string;
  userId: string;
  region?: string;
}): Promise<string> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const signer = new SignatureV4({
    service: 'elasticache',
    region,
    credentials: fromEnv(),
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'http:',
    hostname: options.cacheName,
    path: '/',
    query: { Action: 'connect', User: options.userId, ResourceType: 'ServerlessCache' },
    headers: { host: options.cacheName },
  });
  const signed = await signer.presign(request, { expiresIn: 900 });
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `${options.cacheName}/?${query}`;
}
