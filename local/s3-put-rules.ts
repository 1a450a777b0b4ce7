/**
 * What S3 does with a PUT that s3rver does not: an object is stored only once its whole body has
 * arrived (s3rver wrote straight to the object's file, so an aborted upload left a truncated
 * object); `If-None-Match: *` creates the object only if the key is free (412 PreconditionFailed
 * otherwise, 409 ConditionalRequestConflict while another conditional write of it is in flight),
 * checked after authentication as S3 does; and a presigned request carrying x-amz-* headers it
 * did not sign is refused (403).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { access, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
}

interface FilesystemStore {
  putContent(path: string, content: unknown): Promise<[number, string]>;
  putObject(object: StoredObject): Promise<unknown>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}

/** Set while s3rver handles a request that carries If-None-Match: *. */
const createOnly = new AsyncLocalStorage<true>();
/** Keys with a conditional write in flight. */
const conditionalWrites = new Set<string>();

/** Makes s3rver's store follow S3's rules for writing an object (see the top of this file). */
export function applyPutRules(s3rver: S3rver): void {
  const store = (s3rver as unknown as { store: FilesystemStore }).store;
  const putContent = store.putContent.bind(store);
  store.putContent = async (path, content) => {
    const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
    try {
      const result = await putContent(partial, content);
      await rename(partial, path);
      return result;
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  };
  const putObject = store.putObject.bind(store);
  store.putObject = async (object) => {
    if (createOnly.getStore() !== true) return putObject(object);
    const lock = `${object.bucket}/${object.key}`;
    if (conditionalWrites.has(lock)) {
      const conflict = new S3Error(
        'ConditionalRequestConflict',
        'A conflicting conditional operation is currently in progress against this resource.',
      );
      conflict.status = 409;
      throw conflict;
    }
    const exists = await access(store.getResourcePath(object.bucket, object.key, 'object')).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new S3Error(
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        { Condition: 'If-None-Match' },
      );
    }
    conditionalWrites.add(lock);
    try {
      return await putObject(object);
    } finally {
      conditionalWrites.delete(lock);
    }
  };
}

/**
 * Refuses a presigned request with unsigned x-amz-* headers (answering it, and returning false);
 * otherwise runs `serve` with the request's If-None-Match: * in effect.
 */
export async function servePut(
  request: IncomingMessage,
  response: ServerResponse,
  serve: () => Promise<void>,
): Promise<void> {
  const signedQuery = new URL(request.url ?? '/', 'http://s3.local').searchParams.get(
    'X-Amz-SignedHeaders',
  );
  if (signedQuery !== null) {
    const signed = new Set(signedQuery.toLowerCase().split(';'));
    const unsigned = Object.keys(request.headers).filter(
      (name) => name.startsWith('x-amz-') && !signed.has(name),
    );
    if (unsigned.length > 0) {
      request.resume();
      const error = new S3Error(
        'AccessDenied',
        'There were headers present in the request which were not signed',
        { HeadersNotSigned: unsigned.join(', ') },
      );
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(error.toXML());
      return;
    }
  }
  if (request.method === 'PUT' && request.headers['if-none-match'] === '*') {
    await createOnly.run(true, serve);
    return;
  }
  await serve();
}
