/**
 * ElastiCache IAM authentication tokens: a SigV4-presigned `connect` request for the cache,
 * without the scheme, valid for 15 minutes for new connections.
 *
 * Signed here with node:crypto rather than the SDK's signer: the token is made at every cold
 * start of a function that uses the cache, and the signer's packages would be loaded for this
 * one signature. test/domain/elasticache-iam.test.ts checks the result against @smithy's signer.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

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

/** RFC 3986 encoding, as SigV4 canonical query strings require. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();

export function elastiCacheIamToken(options: {
  readonly cacheName: string;
  readonly userId: string;
  readonly region?: string;
  readonly credentials?: AwsCredentials;
  /** Signing time; now unless given (tests). */
  readonly date?: Date;
}): string {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const credentials = options.credentials ?? credentialsFromEnv();
  const amzDate = (options.date ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/elasticache/aws4_request`;
  const query: Record<string, string> = {
    Action: 'connect',
    User: options.userId,
    ResourceType: 'ServerlessCache',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '900',
    'X-Amz-SignedHeaders': 'host',
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
  };
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((key) => `${encode(key)}=${encode(query[key] ?? '')}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${options.cacheName}\n`,
    'host',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 'elasticache', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `${options.cacheName}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
