/**
 * One upload, from S3 event to a final media record. Called by the transcoder handler (AWS and
 * the local stack alike) with its clients as parameters.
 *
 * Outcome rules:
 * - the upload's fault (format, size, corrupt, too long, timeouts...): the media ends `failed`
 *   with {code, message} and this returns normally, so Lambda does not retry;
 * - an outage (S3, DynamoDB): this releases its claim (best effort, uncounted) and throws, the
 *   record stays `processing`, and Lambda's retry claims it again; after the last retry the event
 *   goes to the on-failure destination and the media sweeper fails the record
 *   (`processing_timeout`), so nothing stays in processing;
 * - a delivery that finds another invocation's live claim processes alongside it, uncounted (see
 *   state.ts: only runs that died use up MAX_PROCESSING_ATTEMPTS);
 * - duplicates and late events for final media are ignored.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, mkdir, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { LIMITS, MEDIA_PREFIXES } from '../../app/model';
import { logger } from '../platform/logger';
import { asPermanent, mediaFailure, MediaProcessingError } from './failure';
import type { FfmpegRunner } from './ffmpeg';
import { inspectImage, processImage } from './image';
import type { ProcessedMedia } from './outputs';
import { MAX_PROCESSING_ATTEMPTS, TOOL_TIMEOUT_MS, type MediaTools } from './settings';
import { checkDeclaredType, readHead, sniffFormat } from './sniff';
import {
  claimForProcessing,
  failIfDetached,
  markFailed,
  markReady,
  releaseClaim,
  TWEET_DELETED,
  type StateDeps,
} from './state';
import { findMedia, type MediaVariant, type ProcessingRecord } from '../core/media/store';
import {
  downloadUpload,
  headUpload,
  outputKey,
  outputPrefix,
  putOutput,
  stagedKey,
} from './storage';
import { processAnimatedGif, processVideo } from './video';

export interface MediaDeps extends StateDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly tools: MediaTools;
  /** Parent of the per-run temp dirs. @default os.tmpdir() */
  readonly tmpRoot?: string;
  /** Epoch ms at which the runtime stops us (Lambda's deadline). Tools are killed before it. */
  readonly deadline?: number;
  /**
   * This invocation's id (Lambda's request id, which its retries of the event keep): a retry may
   * take over its own earlier claim. @default a new id per call
   */
  readonly invocationId?: string;
}

export interface UploadEvent {
  readonly bucket: string;
  /** Decoded object key. */
  readonly key: string;
  /** Size from the event, if any (logged; the HEAD is what counts). */
  readonly size?: number;
}

export type ProcessOutcome =
  | {
      readonly status: 'ready';
      readonly mediaId: string;
      readonly kind: MediaKind;
      readonly variants: number;
    }
  | {
      readonly status: 'failed';
      readonly mediaId: string;
      readonly kind: MediaKind;
      readonly code: string;
    }
  | { readonly status: 'ignored'; readonly mediaId?: string; readonly reason: string };

/** Media ids are ours (ULID-like); anything else under uploads/ is not a media upload. */
const MEDIA_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Time kept back from the Lambda deadline to upload outputs and write the record. */
const FINISH_MARGIN_MS = 20_000;

export function mediaIdFromKey(key: string): string | undefined {
  if (!key.startsWith(MEDIA_PREFIXES.uploads)) return undefined;
  const id = key.slice(MEDIA_PREFIXES.uploads.length);
  return MEDIA_ID.test(id) ? id : undefined;
}

export async function processUpload(deps: MediaDeps, event: UploadEvent): Promise<ProcessOutcome> {
  const mediaId = mediaIdFromKey(event.key);
  if (!mediaId) return { status: 'ignored', reason: 'not_a_media_upload' };
  if (event.bucket !== deps.bucket) return { status: 'ignored', mediaId, reason: 'other_bucket' };

  const invocationId = deps.invocationId ?? randomUUID();
  const claim = await claimForProcessing(deps, mediaId, invocationId);
  const record = claim.record;
  if (!record) return { status: 'ignored', mediaId, reason: 'unknown_media' };
  if (claim.outcome === 'refused') {
    if (await failIfDetached(deps, record)) {
      return { status: 'failed', mediaId, kind: mediaKind(record), code: TWEET_DELETED.code };
    }
    return { status: 'ignored', mediaId, reason: 'already_final' };
  }
  if (claim.outcome === 'attempts_spent') {
    // Claimed and died MAX_PROCESSING_ATTEMPTS times: most likely out of memory or time.
    const failure = {
      code: 'processing_error',
      message: `Processing did not complete after ${MAX_PROCESSING_ATTEMPTS} attempts.`,
    };
    if (await markFailed(deps, mediaId, failure)) {
      return { status: 'failed', mediaId, kind: mediaKind(record), code: failure.code };
    }
    return { status: 'ignored', mediaId, reason: 'already_final' };
  }

  logger.info('processing media', {
    mediaId,
    attempt: record.processing_attempts,
    // in_progress: another invocation's live claim; this run goes alongside it, uncounted.
    claim: claim.outcome,
    eventSize: event.size,
  });
  try {
    return await processClaimed(deps, record);
  } catch (error) {
    // Not the upload's fault (those end failed above): an outage. This run did not die, so its
    // attempt is given back before Lambda retries the event.
    if (claim.outcome === 'claimed') {
      await releaseClaim(deps, mediaId, invocationId).catch(() => false);
    }
    throw error;
  }
}

async function processClaimed(deps: MediaDeps, record: ProcessingRecord): Promise<ProcessOutcome> {
  const mediaId = record.media_id;
  let processed: Awaited<ReturnType<typeof processInTempDir>>;
  try {
    processed = await processInTempDir(deps, record);
  } catch (error) {
    if (!(error instanceof MediaProcessingError)) throw error;
    const level = error.cause === undefined ? 'info' : 'error';
    logger[level]('media failed', { mediaId, code: error.code, cause: error.cause });
    await markFailed(deps, mediaId, { code: error.code, message: error.message });
    return { status: 'failed', mediaId, kind: mediaKind(record), code: error.code };
  }
  const { media, variants } = processed;
  const done = await markReady(deps, mediaId, {
    width: media.width,
    height: media.height,
    blurhash: media.blurhash,
    variants,
    ...(media.durationMs !== undefined ? { duration_ms: media.durationMs } : {}),
  });
  if (!done) {
    // Its tweet was deleted while it was being processed: it must not become ready.
    if (await failIfDetached(deps, await findMedia(deps, mediaId))) {
      return { status: 'failed', mediaId, kind: mediaKind(record), code: TWEET_DELETED.code };
    }
    return { status: 'ignored', mediaId, reason: 'already_final' };
  }
  return { status: 'ready', mediaId, kind: mediaKind(record), variants: variants.length };
}

/** The metrics' media kind: video or image. */
export type MediaKind = 'image' | 'video';
const mediaKind = (record: { readonly content_type: string }): MediaKind =>
  record.content_type.startsWith('video/') ? 'video' : 'image';

const RUN_DIR_PREFIX = 'chirp-media-';
/** No run lives this long (tool budget 240 s, Lambda 15 min max): an older run dir is debris. */
const STALE_RUN_DIR_MS = 15 * 60_000;

/**
 * A run killed mid-way (Lambda timeout, out of memory, a stopped local stack) never reaches its
 * `finally`, and Lambda keeps /tmp across invocations of the same sandbox, so each run first
 * removes run dirs old enough to be certainly dead. Best effort.
 */
export async function removeStaleRunDirs(root: string, now = Date.now()): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() && now - info.mtimeMs > STALE_RUN_DIR_MS) {
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** Downloads, validates, processes and uploads in a private temp dir that is always removed. */
async function processInTempDir(deps: MediaDeps, record: ProcessingRecord) {
  const root = deps.tmpRoot ?? tmpdir();
  await mkdir(root, { recursive: true });
  await removeStaleRunDirs(root);
  const dir = await mkdtemp(join(root, RUN_DIR_PREFIX));
  try {
    const inputPath = join(dir, 'input');
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    const inputSha256 = await fetchUpload(deps, record, inputPath);
    const media = await asPermanent(() => processFile(deps, record, inputPath, outDir));
    const prefix = outputPrefix(record.media_id, inputSha256);
    const variants: MediaVariant[] = [];
    // Every output is complete locally before the first PUT: a failure never leaves half a set.
    for (const file of media.files) {
      const key = outputKey(prefix, file);
      await putOutput(deps.s3, deps.bucket, stagedKey(key), file);
      variants.push({
        name: file.name,
        key,
        content_type: file.contentType,
        width: file.width,
        height: file.height,
        bytes: file.bytes,
      });
    }
    return { media, variants };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Checks the object against the declaration, then streams it to disk. Returns its SHA-256. */
async function fetchUpload(
  deps: MediaDeps,
  record: ProcessingRecord,
  destination: string,
): Promise<string> {
  const limit = LIMITS.mediaTypes[record.content_type];
  if (limit === undefined) {
    throw mediaFailure('unsupported_format', `${record.content_type} is not supported.`);
  }
  const head = await headUpload(deps.s3, deps.bucket, record.upload_key);
  if (head.size === 0) throw mediaFailure('empty_upload', 'The uploaded file is empty.');
  if (head.size !== record.size_bytes) {
    throw mediaFailure(
      'size_mismatch',
      `The upload has ${head.size} bytes but ${record.size_bytes} were declared.`,
    );
  }
  if (head.size > limit) {
    throw mediaFailure('media_too_large', `The file is larger than ${limit} bytes.`);
  }
  return downloadUpload(deps.s3, deps.bucket, record.upload_key, head, destination);
}

/** Sniffs the bytes and hands the file to the pipeline for what it really is. */
async function processFile(
  deps: MediaDeps,
  record: ProcessingRecord,
  inputPath: string,
  outDir: string,
): Promise<ProcessedMedia> {
  const format = sniffFormat(await readHead(inputPath));
  checkDeclaredType(record.content_type, format);
  const runner: FfmpegRunner = {
    ffmpegPath: deps.tools.ffmpegPath,
    ffprobePath: deps.tools.ffprobePath,
    rlimitExecPath: deps.tools.rlimitExecPath,
    deadline: Math.min(
      Date.now() + TOOL_TIMEOUT_MS,
      (deps.deadline ?? Number.POSITIVE_INFINITY) - FINISH_MARGIN_MS,
    ),
  };
  const limits = { maxVideoSeconds: deps.tools.maxVideoSeconds };
  switch (format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'avif':
      return processImage(inputPath, format, outDir);
    case 'gif': {
      const metadata = await inspectImage(inputPath, 'gif');
      const frames = metadata.pages ?? 1;
      if (frames <= 1) return processImage(inputPath, 'gif', outDir);
      return processAnimatedGif(runner, inputPath, outDir, limits);
    }
    case 'mp4':
    case 'mov':
      return processVideo(runner, inputPath, outDir, limits);
    default:
      throw mediaFailure('unsupported_format', 'The file is not a supported image or video.');
  }
}
