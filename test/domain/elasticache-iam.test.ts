/**
 * The ElastiCache IAM token is signed with node:crypto (elasticache-iam.ts); AWS's own SigV4
 * signer must produce the same signature for the same request, credentials and time.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { elastiCacheIamToken, type AwsCredentials } from '../../lambdas/shared/elasticache-iam';

async function smithyToken(
  cacheName: string,
  userId: string,
  credentials: AwsCredentials,
  date: Date,
): Promise<string> {
  const signer = new SignatureV4({
    service: 'elasticache',
    region: 'eu-west-1',
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: cacheName,
      path: '/',
      query: { Action: 'connect', User: userId, ResourceType: 'ServerlessCache' },
      headers: { host: cacheName },
    }),
    { expiresIn: 900, signingDate: date },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `${cacheName}/?${query}`;
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
  it.each(cases)(
    'are signed exactly as the AWS SDK signs them, with %s',
    async (_, credentials) => {
      const ours = elastiCacheIamToken({
        cacheName: 'chirp-cache',
        userId: 'chirp-app',
        region: 'eu-west-1',
        credentials,
        date,
      });
      const theirs = await smithyToken('chirp-cache', 'chirp-app', credentials, date);
      expect(ours.startsWith('chirp-cache/?')).toBe(true);
      expect(params(ours)).toEqual(params(theirs));
      expect(params(ours)['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('change with the signing time', () => {
    const credentials = cases[0]![1];
    const at = (iso: string) =>
      params(
        elastiCacheIamToken({ cacheName: 'c', userId: 'u', credentials, date: new Date(iso) }),
      )['X-Amz-Signature'];
    expect(at('2026-11-25T18:30:00Z')).not.toBe(at('2026-11-25T18:30:01Z'));
  });
});
