/**
 * The ElastiCache IAM token (elasticache-iam.ts, signed by @smithy/signature-v4) checked against an
 * independent SigV4 presigning written out here with node:crypto from AWS's specification, for
 * the same request, credentials and time.
 */
import { createHash, createHmac } from 'node:crypto';
import { elastiCacheIamToken, type AwsCredentials } from '../../lambdas/platform/elasticache-iam';

/** RFC 3986 encoding, as SigV4 canonical query strings require. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');

function referenceToken(
  cacheName: string,
  userId: string,
  region: string,
  credentials: AwsCredentials,
  date: Date,
): Record<string, string> {
  const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/elasticache/aws4_request`;
  const query: Record<string, string> = {
    Action: 'connect',
    User: userId,
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
    `host:${cacheName}\n`,
    'host',
    sha256Hex(''),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 'elasticache', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return { ...query, 'X-Amz-Signature': signature };
}

const params = (token: string) =>
  Object.fromEntries(new URLSearchParams(token.slice(token.indexOf('?') + 1)));

describe('ElastiCache IAM tokens', () => {
  const date = new Date('2026-11-25T18:30:00Z');
  const cases: [string, AwsCredentials][] = [
    ['long-term keys', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }],
    [
      "a Lambda role's session credentials",
      {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'secret+/=key',
        sessionToken: 'IQoJb3JpZ2luX2VjE//session+token=with/odd*chars',
      },
    ],
  ];
  it.each(cases)('are the SigV4 presigned connect request, with %s', async (_, credentials) => {
    const token = await elastiCacheIamToken({
      cacheName: 'chirp-cache',
      userId: 'chirp-app',
      region: 'eu-west-1',
      credentials,
      date,
    });
    expect(token.startsWith('chirp-cache/?')).toBe(true);
    expect(params(token)).toEqual(
      referenceToken('chirp-cache', 'chirp-app', 'eu-west-1', credentials, date),
    );
    expect(params(token)['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change with the signing time', async () => {
    const credentials = cases[0]![1];
    const at = async (iso: string) =>
      params(
        await elastiCacheIamToken({
          cacheName: 'c',
          userId: 'u',
          credentials,
          date: new Date(iso),
        }),
      )['X-Amz-Signature'];
    expect(await at('2026-11-25T18:30:00Z')).not.toBe(await at('2026-11-25T18:30:01Z'));
  });

  it('take the credentials Lambda puts in the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'ASIAENV',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
      AWS_SESSION_TOKEN: 'env-session',
      AWS_REGION: 'ap-southeast-2',
    });
    try {
      const token = await elastiCacheIamToken({ cacheName: 'c', userId: 'u', date });
      expect(params(token)).toEqual(
        referenceToken(
          'c',
          'u',
          'ap-southeast-2',
          { accessKeyId: 'ASIAENV', secretAccessKey: 'env-secret', sessionToken: 'env-session' },
          date,
        ),
      );
    } finally {
      process.env = saved;
    }
  });
});
