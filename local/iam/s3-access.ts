/**
 * The IAM requests an S3 REST call amounts to (path-style), as S3 authorizes them: the action the
 * operation needs, on the bucket or object ARN, with the condition keys the app's policies use.
 * A DeleteObjects call is authorized per key, as S3 does.
 */
import type { IncomingMessage } from 'node:http';
import type { AccessRequest } from './enforcer';

/** The access key a request is signed with (header or presigned query), if any. */
export function signingAccessKey(request: IncomingMessage): string | undefined {
  const header = /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''));
  if (header !== null) return header[1];
  const query = new URL(request.url ?? '/', 'http://s3.local').searchParams;
  return query.get('X-Amz-Credential')?.split('/')[0] ?? query.get('AWSAccessKeyId') ?? undefined;
}

/** Whether the call is a DeleteObjects, whose body names the keys to authorize. */
export const isDeleteObjects = (request: IncomingMessage) =>
  request.method === 'POST' &&
  new URL(request.url ?? '/', 'http://s3.local').searchParams.has('delete');

const XML_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
};

/** The keys of a DeleteObjects body. */
export const deleteObjectsKeys = (body: string): string[] =>
  [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
    (m[1] ?? '').replace(/&(amp|lt|gt|quot|apos);/g, (entity) => XML_ENTITIES[entity] ?? entity),
  );

export function s3AccessRequests(request: IncomingMessage, deleteKeys: string[]): AccessRequest[] {
  const url = new URL(request.url ?? '/', 'http://s3.local');
  const query = url.searchParams;
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  const key = decodeURIComponent(rest.join('/'));
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const method = request.method ?? 'GET';
  const on = (action: string, context?: Record<string, string>): AccessRequest[] => [
    { action: `s3:${action}`, resource: key === '' ? bucketArn : `${bucketArn}/${key}`, context },
  ];
  if (bucket === '') return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
  if (key === '') {
    if (method === 'POST' && query.has('delete')) {
      return deleteKeys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}` }));
    }
    if (method === 'GET' && query.has('versions')) return on('ListBucketVersions');
    if (method === 'GET' && query.has('uploads')) return on('ListBucketMultipartUploads');
    if (method === 'GET' && query.has('location')) return on('GetBucketLocation');
    if (query.has('cors')) return on(method === 'GET' ? 'GetBucketCORS' : 'PutBucketCORS');
    if (method === 'GET' || method === 'HEAD') {
      return on('ListBucket', {
        's3:prefix': query.get('prefix') ?? '',
        ...(query.has('delimiter') ? { 's3:delimiter': query.get('delimiter') ?? '' } : {}),
      });
    }
    if (method === 'PUT') return on('CreateBucket');
    if (method === 'DELETE') return on('DeleteBucket');
    return on(`${method}Bucket`);
  }
  if (query.has('tagging')) {
    return on(
      method === 'GET'
        ? 'GetObjectTagging'
        : method === 'PUT'
          ? 'PutObjectTagging'
          : 'DeleteObjectTagging',
    );
  }
  if (query.has('acl')) return on(method === 'GET' ? 'GetObjectAcl' : 'PutObjectAcl');
  if (method === 'GET' || method === 'HEAD') {
    return on(
      query.has('uploadId')
        ? 'ListMultipartUploadParts'
        : query.has('versionId')
          ? 'GetObjectVersion'
          : 'GetObject',
    );
  }
  if (method === 'PUT' || method === 'POST') {
    const copySource = request.headers['x-amz-copy-source'];
    const source =
      typeof copySource === 'string'
        ? [
            {
              action: 's3:GetObject',
              resource: `arn:aws:s3:::${decodeURIComponent(copySource.replace(/^\//, ''))}`,
            },
          ]
        : [];
    return [...on('PutObject'), ...source];
  }
  if (method === 'DELETE') {
    return on(
      query.has('uploadId')
        ? 'AbortMultipartUpload'
        : query.has('versionId')
          ? 'DeleteObjectVersion'
          : 'DeleteObject',
    );
  }
  return on(`${method}Object`);
}
