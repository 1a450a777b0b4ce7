// Own code: s3rver lacks ListParts and AbortMultipartUpload, and completes without checking parts (docs/own-code.md).
/**
 * S3's multipart rules that s3rver lacks, added to its own router and controllers (so its SigV4
 * checks, presigned ones included, still run first):
 * - ListParts (GET ?uploadId) and AbortMultipartUpload (DELETE ?uploadId), which s3rver answers
 *   405;
 * - UploadPart to an unknown (aborted, completed) upload is 404 NoSuchUpload (s3rver recreated it);
 * - CompleteMultipartUpload checks what S3 checks: the upload exists (404 NoSuchUpload), part
 *   numbers ascend (400 InvalidPartOrder), every listed part exists with the listed ETag (400
 *   InvalidPart), every part but the last is at least 5 MiB (400 EntityTooSmall). Its event is
 *   ObjectCreated:CompleteMultipartUpload, as S3's (s3rver said ObjectCreated:Post).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';
import objectController from '@20minutes/s3rver/lib/controllers/object';
import router from '@20minutes/s3rver/lib/routes';
import S3Event from '@20minutes/s3rver/lib/models/event';
import S3Object from '@20minutes/s3rver/lib/models/object';
import { xmlBodyParser } from '@20minutes/s3rver/lib/utils';

/** S3's smallest part, except the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

interface Store {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ md5: string; size: number }>;
}

interface Ctx {
  params: { bucket: string; key: string; queryMethod?: string };
  query: Record<string, string | undefined>;
  method: string;
  href: string;
  ip: string;
  headers: Record<string, string>;
  request: { body: Record<string, unknown> };
  store: Store;
  app: { emit(event: string, payload: unknown): void };
  body: unknown;
  status: number;
  etag: string;
}

type Middleware = (ctx: Ctx, next: () => Promise<void>) => unknown;

const uploadDir = (ctx: Ctx, uploadId: string) =>
  path.join(ctx.store.getResourcePath(ctx.params.bucket, undefined, 'uploads'), uploadId);

/** The upload's directory, if the upload exists and is for this key. */
async function existingUpload(ctx: Ctx): Promise<string> {
  const uploadId = ctx.query.uploadId ?? '';
  const dir = uploadDir(ctx, path.basename(uploadId));
  const key = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
  if (uploadId === '' || key !== ctx.params.key) {
    throw new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    );
  }
  return dir;
}

interface StoredPart {
  readonly number: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: Date;
}

async function storedParts(dir: string): Promise<StoredPart[]> {
  const names = (await readdir(dir)).filter((name) => /^\d+$/.test(name));
  const parts = await Promise.all(
    names.map(async (name) => {
      const [info, md5] = await Promise.all([
        stat(path.join(dir, name)),
        readFile(path.join(dir, `${name}.md5`), 'utf8'),
      ]);
      return { number: Number(name), etag: md5, size: info.size, lastModified: info.mtime };
    }),
  );
  return parts.sort((a, b) => a.number - b.number);
}

async function listParts(ctx: Ctx): Promise<void> {
  const parts = await storedParts(await existingUpload(ctx));
  const marker = Number(ctx.query['part-number-marker'] ?? 0);
  const max = Math.min(Number(ctx.query['max-parts'] ?? 1000), 1000);
  const after = parts.filter((part) => part.number > marker);
  const page = after.slice(0, max);
  ctx.body = {
    ListPartsResult: {
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      UploadId: ctx.query.uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.number ?? marker,
      MaxParts: max,
      IsTruncated: after.length > page.length,
      Part: page.map((part) => ({
        PartNumber: part.number,
        LastModified: part.lastModified.toISOString(),
        ETag: JSON.stringify(part.etag),
        Size: part.size,
      })),
    },
  };
}

async function abortUpload(ctx: Ctx): Promise<void> {
  await rm(await existingUpload(ctx), { recursive: true, force: true });
  ctx.status = 204;
  ctx.body = '';
}

async function completeUpload(ctx: Ctx): Promise<void> {
  const dir = await existingUpload(ctx);
  await xmlBodyParser(ctx);
  const body = ctx.request.body.CompleteMultipartUpload as { Part?: unknown } | undefined;
  if (body?.Part === undefined) {
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  const listed = ([] as { PartNumber: unknown; ETag: unknown }[])
    .concat(body.Part as never)
    .map((part) => ({
      number: Number(part.PartNumber),
      etag: String(part.ETag).replace(/"/g, ''),
    }));
  const stored = new Map((await storedParts(dir)).map((part) => [part.number, part]));
  // S3's order: the list itself, then each part's existence, then sizes.
  if (listed.some((part, index) => index > 0 && part.number <= listed[index - 1]!.number)) {
    throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
  }
  const found = listed.map((part) => {
    const one = stored.get(part.number);
    if (one === undefined || one.etag !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: ctx.query.uploadId ?? '', PartNumber: String(part.number) },
      );
    }
    return one;
  });
  if (found.slice(0, -1).some((part) => part.size < MIN_PART_BYTES)) {
    throw new S3Error(
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
    );
  }
  const { md5, size } = await ctx.store.putObjectMultipart(
    ctx.params.bucket,
    path.basename(dir),
    listed,
  );
  const event = new S3Event(
    {
      bucket: ctx.params.bucket,
      eventType: 'Post',
      S3Item: new S3Object(ctx.params.bucket, ctx.params.key, null, {
        etag: JSON.stringify(md5),
        'content-length': size,
      }),
    },
    { reqHeaders: ctx.headers, sourceIp: ctx.ip },
  );
  for (const record of event.Records) record.eventName = 'ObjectCreated:CompleteMultipartUpload';
  ctx.app.emit('event', event);
  ctx.body = {
    CompleteMultipartUploadResult: {
      Location: ctx.href.split('?')[0],
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      ETag: JSON.stringify(md5),
    },
  };
}

interface RouterLayer {
  path: string;
  methods: string[];
  stack: Middleware[];
}

let applied = false;

/** Adds the multipart rules above to s3rver (its router and controllers are module singletons). */
export function applyMultipartRules(_s3rver: S3rver): void {
  if (applied) return;
  applied = true;
  const controller = objectController as unknown as Record<string, Middleware>;
  controller.completeMultipartUpload = (ctx) => completeUpload(ctx);
  const uploadPart = controller.uploadPart!;
  controller.uploadPart = async (ctx, next) => {
    await existingUpload(ctx);
    return uploadPart(ctx, next);
  };
  const byMethod: Record<string, (ctx: Ctx) => Promise<void>> = {
    GET: listParts,
    DELETE: abortUpload,
  };
  for (const layer of (router as unknown as { stack: RouterLayer[] }).stack) {
    if (layer.path !== '/:bucket/*key') continue;
    const method = layer.methods.find((m) => m in byMethod);
    const handler = method === undefined ? undefined : byMethod[method];
    const last = layer.stack.at(-1);
    if (handler === undefined || last === undefined) continue;
    layer.stack[layer.stack.length - 1] = (ctx, next) =>
      ctx.params.queryMethod === 'uploadId' ? handler(ctx) : last(ctx, next);
  }
}
