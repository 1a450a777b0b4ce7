/**
 * Still images with sharp: orient, strip metadata, convert to sRGB, and write every variant from
 * one decode. The file is decoded once (shrunk on load towards the largest variant), kept as raw
 * sRGB pixels, and every variant is resized and encoded from that buffer, one encoder per core.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { encode as encodeBlurhash } from 'blurhash';
import { mediaFailure } from './failure';
import type { OutputFile, ProcessedMedia } from './outputs';
import {
  IMAGE_DECODE_TIMEOUT_SECONDS,
  IMAGE_VARIANTS,
  JPEG_OPTIONS,
  MAX_IMAGE_PIXELS,
  WEBP_OPTIONS,
} from './settings';

export type StillFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

/** sharp's name for each sniffed format. */
const SHARP_FORMAT: Readonly<Record<StillFormat, string>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'heif',
};

interface RawImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

const LARGEST = IMAGE_VARIANTS[0].size;

/** Reads only the header: dimensions are checked before a single pixel is decoded. */
export async function inspectImage(path: string, format: StillFormat) {
  let metadata: Metadata;
  try {
    metadata = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    throw mediaFailure('corrupt_media', 'The image is damaged and cannot be read.');
  }
  if (metadata.format !== SHARP_FORMAT[format]) {
    throw mediaFailure('corrupt_media', 'The image is damaged and cannot be read.');
  }
  const { width, height } = metadata;
  if (!width || !height) {
    throw mediaFailure('corrupt_media', 'The image has no dimensions.');
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw mediaFailure(
      'image_too_large',
      `The image is ${width}x${height} pixels; the limit is ${Math.floor(MAX_IMAGE_PIXELS / 1e6)} megapixels.`,
    );
  }
  return metadata;
}

/** Decodes once: EXIF orientation applied, sRGB, 8 bit, shrunk to the largest variant at most. */
async function decode(path: string): Promise<RawImage> {
  try {
    const { data, info } = await sharp(path, {
      limitInputPixels: MAX_IMAGE_PIXELS,
      failOn: 'error',
      sequentialRead: true,
    })
      .timeout({ seconds: IMAGE_DECODE_TIMEOUT_SECONDS })
      .autoOrient()
      .resize({ width: LARGEST, height: LARGEST, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/pixel limit/i.test(message)) {
      throw mediaFailure('image_too_large', 'The image has too many pixels.');
    }
    if (/^timeout/i.test(message)) {
      throw mediaFailure('processing_timeout', 'Decoding the image took too long.');
    }
    throw mediaFailure('corrupt_media', 'The image is damaged or truncated and cannot be decoded.');
  }
}

const fromRaw = (raw: RawImage) =>
  sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });

/** Resizes raw pixels to another raw buffer, so each smaller variant starts from a small one. */
async function resizeRaw(
  raw: RawImage,
  variant: { readonly size: number; readonly fit: 'inside' | 'cover' },
): Promise<RawImage> {
  if (variant.fit === 'inside' && Math.max(raw.width, raw.height) <= variant.size) return raw;
  const { data, info } = await fromRaw(raw)
    .resize({
      width: variant.size,
      height: variant.size,
      fit: variant.fit,
      withoutEnlargement: true,
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Runs at most `slots` tasks at a time, in the order they were queued. The encoders are
 * single-threaded (libwebp, libjpeg), so one per core keeps every core busy without them
 * competing for the CPU or holding more pixel buffers at once than are being worked on.
 */
function taskQueue(slots: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= slots) await new Promise<void>((start) => waiting.push(start));
    else running += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task, or free it.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

type Encode = <T>(task: () => Promise<T>) => Promise<T>;

/** Encodes raw pixels as WebP and JPEG, each as a task of `encode`. */
async function encodeBoth(
  raw: RawImage,
  outDir: string,
  name: string,
  encode: Encode,
): Promise<OutputFile[]> {
  const webpPath = join(outDir, `${name}.webp`);
  const jpegPath = join(outDir, `${name}.jpg`);
  const [webp, jpeg] = await Promise.all([
    encode(() => fromRaw(raw).webp(WEBP_OPTIONS).toFile(webpPath)),
    // JPEG has no alpha: transparent parts go on white, as browsers show them.
    encode(() =>
      fromRaw(raw).flatten({ background: '#ffffff' }).jpeg(JPEG_OPTIONS).toFile(jpegPath),
    ),
  ]);
  return [
    {
      name,
      path: webpPath,
      extension: 'webp',
      contentType: 'image/webp',
      width: webp.width,
      height: webp.height,
      bytes: webp.size,
    },
    {
      name,
      path: jpegPath,
      extension: 'jpg',
      contentType: 'image/jpeg',
      width: jpeg.width,
      height: jpeg.height,
      bytes: jpeg.size,
    },
  ];
}

/**
 * Every variant, each resized from the previous (smaller) one while the encoders of the larger
 * ones run: resampling costs little next to decoding and encoding. The encoders are queued
 * largest first, so the longest one (the large WebP) starts as soon as the pixels are decoded.
 * The blurhash is taken from the smallest whole-image variant (not the cropped thumb).
 */
async function writeVariants(
  decoded: RawImage,
  outDir: string,
): Promise<{ files: OutputFile[]; blurhash: string }> {
  const encode = taskQueue(availableParallelism());
  const encodes: Promise<OutputFile[]>[] = [];
  let source = decoded;
  for (const variant of IMAGE_VARIANTS) {
    const pixels = await resizeRaw(source, variant);
    encodes.push(encodeBoth(pixels, outDir, variant.name, encode));
    if (variant.fit === 'inside') source = pixels;
  }
  const [blurhash, files] = await Promise.all([blurhashOf(source), Promise.all(encodes)]);
  return { blurhash, files: files.flat() };
}

/** blurhash (4x3 components) of a 32 px version. */
async function blurhashOf(raw: RawImage): Promise<string> {
  const { data, info } = await fromRaw(raw)
    .resize({ width: 32, height: 32, fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodeBlurhash(new Uint8ClampedArray(data), info.width, info.height, 4, 3);
}

/**
 * Produces the full variant set (WebP and JPEG for each of large, medium, small, thumb) plus a
 * blurhash. Dimensions are those of the oriented original.
 */
export async function processImage(
  path: string,
  format: StillFormat,
  outDir: string,
): Promise<ProcessedMedia> {
  const metadata = await inspectImage(path, format);
  const { blurhash, files } = await writeVariants(await decode(path), outDir);
  const oriented = metadata.autoOrient;
  return { width: oriented.width, height: oriented.height, blurhash, files };
}

/**
 * A poster frame (PNG written by ffmpeg from our own output) as WebP and JPEG at its own size,
 * plus its blurhash.
 */
export async function processPoster(
  pngPath: string,
  outDir: string,
): Promise<{ blurhash: string; files: OutputFile[] }> {
  await inspectImage(pngPath, 'png');
  const raw = await decode(pngPath);
  const [blurhash, files] = await Promise.all([
    blurhashOf(raw),
    encodeBoth(raw, outDir, 'poster', taskQueue(availableParallelism())),
  ]);
  return { blurhash, files };
}
