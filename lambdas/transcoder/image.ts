/**
 * Still images with sharp: orient, strip metadata, convert to sRGB, and write every variant from
 * one decode. The file is decoded once (shrunk on load towards the largest variant), kept as raw
 * sRGB pixels, and every variant is resized and encoded from that buffer, one encoder per core.
 */
import { readFile } from 'node:fs/promises';
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
  MAX_JPEG_SCANS,
  MAX_WHOLE_DECODE_BYTES,
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

/** Planes of JPEG coefficients per pixel, by chroma subsampling (luma 1, each chroma 1/4 to 1). */
const JPEG_PLANES: Readonly<Record<string, number>> = {
  '4:2:0': 1.5,
  '4:2:2': 2,
  '4:4:0': 2,
  '4:4:4': 3,
  '4:4:4:4': 4,
};

/**
 * Scans (SOS segments) of a JPEG, by walking its marker segments: each has a length, except the
 * entropy-coded data after an SOS, which ends at the first 0xFF not followed by a stuffed 0x00
 * or a restart marker. An EXIF thumbnail (inside APP1) is skipped with its segment.
 */
export function countJpegScans(data: Buffer): number {
  let scans = 0;
  let at = 2; // after SOI
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1]!;
    if (marker === 0xd9) break; // EOI
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    at += 2 + data.readUInt16BE(at + 2);
    if (marker !== 0xda) continue;
    scans += 1;
    for (at = data.indexOf(0xff, at); at >= 0; at = data.indexOf(0xff, at + 1)) {
      const next = data[at + 1];
      if (next !== 0x00 && !(next !== undefined && next >= 0xd0 && next <= 0xd7)) break;
    }
    if (at < 0) break;
  }
  return scans;
}

/**
 * What decoding will cost beyond the pixel count, from the header and (for JPEG) the markers,
 * before a pixel is decoded. libvips cannot stream an interlaced PNG or a progressive JPEG: the
 * whole image (PNG, at its bit depth) or all its DCT coefficients (JPEG, 16 bits each) sit in
 * memory first, and a progressive JPEG is decoded once per scan, inside libjpeg, where sharp's
 * timeout is only looked at afterwards (a 2,080-scan 33 MP JPEG ran 7.5-15 s past a 3 s timeout).
 */
async function checkDecodeCost(path: string, format: StillFormat, metadata: Metadata) {
  const { width = 0, height = 0, channels = 3 } = metadata;
  let wholeImageBytes = 0;
  if (format === 'png' && metadata.isProgressive) {
    wholeImageBytes = width * height * channels * (metadata.depth === 'ushort' ? 2 : 1);
  }
  if (format === 'jpeg' && metadata.isProgressive) {
    wholeImageBytes =
      width * height * 2 * (JPEG_PLANES[metadata.chromaSubsampling ?? ''] ?? channels);
    const scans = countJpegScans(await readFile(path));
    if (scans > MAX_JPEG_SCANS) {
      throw mediaFailure(
        'image_too_large',
        `The JPEG has ${scans} progressive scans; the limit is ${MAX_JPEG_SCANS}.`,
      );
    }
  }
  if (wholeImageBytes > MAX_WHOLE_DECODE_BYTES) {
    throw mediaFailure(
      'image_too_large',
      `Decoding this interlaced or progressive image needs ${Math.ceil(wholeImageBytes / 1024 ** 2)} MiB; ` +
        `the limit is ${MAX_WHOLE_DECODE_BYTES / 1024 ** 2} MiB.`,
    );
  }
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
  await checkDecodeCost(path, format, metadata);
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
