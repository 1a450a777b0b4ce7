/**
 * Fixtures the media tests generate themselves: images through sharp (tags through exiftool),
 * videos through ffmpeg's lavfi sources, and hand-made hostile files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { MediaProcessingError } from '../../lambdas/transcoder/failure';
import type { FfmpegRunner } from '../../lambdas/transcoder/ffmpeg';
import { localMediaTools } from '../../local/media-tools';

/** The layer's ffmpeg configuration built for this machine, with `budgetMs` to finish. */
export const toolRunner = (budgetMs = 60_000): FfmpegRunner => ({
  ...localMediaTools,
  deadline: Date.now() + budgetMs,
});

export function tempDir(prefix = 'chirp-media-test-'): {
  path: string;
  file: (name: string) => string;
  /** A new, empty subdirectory. */
  subdir: () => string;
  entries: () => string[];
  remove: () => void;
} {
  const path = mkdtempSync(join(tmpdir(), prefix));
  let count = 0;
  return {
    path,
    file: (name) => join(path, name),
    subdir: () => {
      const sub = join(path, `out-${(count += 1)}`);
      mkdirSync(sub);
      return sub;
    },
    entries: () => readdirSync(path),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** The failure code a processing step ended with (it must fail with a MediaProcessingError). */
export async function failureOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return failureCode(error);
}

/** The code of a processing step's failure (it must be a MediaProcessingError). */
export function failureCode(error: unknown): string {
  if (!(error instanceof MediaProcessingError)) {
    throw new Error(`expected a failure, got ${String(error)}`);
  }
  return error.code;
}

/** Left half red, right half blue, so orientation is visible in the pixels. */
export async function twoToneImage(
  width: number,
  height: number,
  format: 'jpeg' | 'png' | 'webp' | 'avif' | 'gif',
  path: string,
  options: { alpha?: boolean } = {},
): Promise<string> {
  const channels = options.alpha ? 4 : 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * channels;
      const left = x < width / 2;
      pixels[at] = left ? 220 : 20;
      pixels[at + 1] = 20;
      pixels[at + 2] = left ? 20 : 220;
      if (channels === 4) pixels[at + 3] = y < height / 2 ? 255 : 0;
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels } });
  await image.toFormat(format, format === 'avif' ? { effort: 0 } : {}).toFile(path);
  return path;
}

/** Adds GPS, camera and owner tags and an EXIF orientation with exiftool. */
export function tagWithExif(path: string, orientation: number): void {
  execFileSync('exiftool', [
    '-overwrite_original',
    '-n',
    `-Orientation=${orientation}`,
    '-GPSLatitude=48.8584',
    '-GPSLatitudeRef=N',
    '-GPSLongitude=2.2945',
    '-GPSLongitudeRef=E',
    '-Make=FixtureCam',
    '-Model=FX-1',
    '-Artist=Fixture Owner',
    '-Copyright=Fixture Owner',
    '-SerialNumber=SN123456',
    path,
  ]);
}

/** exiftool's view of files (one exiftool run): every tag, with group names. */
export function exifTagsOf(paths: string[]): Record<string, unknown>[] {
  const out = execFileSync('exiftool', ['-json', '-a', '-G1', '-n', ...paths], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>[];
}

export const exifTags = (path: string) => exifTagsOf([path])[0] ?? {};

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A valid-looking PNG of a few dozen bytes whose IHDR declares width x height RGB pixels. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function ffmpegFixture(args: string[], output: string): string {
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, output]);
  return output;
}

/** H.264 + AAC clip from lavfi's testsrc2 (or another video source) and sine. */
export function testClip(
  output: string,
  options: {
    size: string;
    seconds: number;
    fps?: number;
    audio?: boolean;
    extra?: string[];
    /** lavfi video source other than testsrc2, e.g. 'color=c=gray'. */
    source?: string;
  },
): string {
  return ffmpegFixture(
    [
      '-f',
      'lavfi',
      '-i',
      // 'testsrc2' takes '=size=…', 'color=c=gray' takes ':size=…'.
      `${options.source ?? 'testsrc2'}${options.source?.includes('=') ? ':' : '='}` +
        `size=${options.size}:rate=${options.fps ?? 30}`,
      ...(options.audio === false
        ? []
        : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']),
      '-t',
      String(options.seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      ...(options.audio === false ? [] : ['-c:a', 'aac']),
      ...(options.extra ?? []),
    ],
    output,
  );
}

export function animatedGif(output: string): string {
  return ffmpegFixture(
    [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-t',
      '1',
      '-vf',
      'scale=161:121',
      '-f',
      'gif',
    ],
    output,
  );
}

export const hlsPlaylist = (target: string) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n${target}\n#EXT-X-ENDLIST\n`;

export function writeFixture(path: string, data: Buffer | string): string {
  writeFileSync(path, data);
  return path;
}
