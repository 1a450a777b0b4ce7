/**
 * The transcoder's image and video paths, each run in a fresh child process (its peak RSS is the
 * transcoder's), against their baselines: ImageMagick `convert` producing the same variant set
 * from the same 12 MP JPEG, and the clip's own duration.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { TRANSCODER_MALLOC_ENV } from '../../app/model';
import { localMediaTools } from '../../local/media-tools';
import { IMAGE_VARIANTS, JPEG_OPTIONS, WEBP_OPTIONS } from '../../lambdas/transcoder/settings';
import { bundleLikeCdk } from '../lib/bundle';
import { ASSUMPTIONS, COST_ROUTES, recordConsumption } from '../lib/cost';
import { compared, notMeasured, progress, reportOnly, type Row } from '../lib/report';
import { lastJsonLine, mustRun } from '../lib/process';
import { median } from '../lib/stats';

export interface MediaOptions {
  /** Where generated fixtures are kept between runs. */
  readonly fixtureDir: string;
  /** Scratch space inside the repository. */
  readonly buildDir: string;
  readonly imageRuns: number;
  readonly videoRuns: number;
}

/** Generates a fixture with ffmpeg's lavfi sources once; later runs reuse it. */
async function ffmpegFixture(path: string, what: string, args: string[]): Promise<string> {
  if (existsSync(path)) return path;
  progress(`generating ${what} with ffmpeg`);
  await mustRun('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, path]);
  return path;
}

/** A 12 MP (4000x3000) photo-like JPEG: test pattern plus sensor-like noise. */
const imageFixture = (dir: string) =>
  ffmpegFixture(join(dir, 'photo-12mp.jpg'), 'the 12 MP JPEG fixture', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=4000x3000:rate=1'],
    ...['-vf', 'noise=alls=14:allf=u,format=yuvj420p', '-frames:v', '1', '-q:v', '3'],
  ]);

/** A 10 s 1080p30 H.264 + AAC clip with some temporal noise, as a camera's would have, ~16 Mbit/s. */
const videoFixture = (dir: string) =>
  ffmpegFixture(join(dir, 'clip-1080p-10s-16mbps.mp4'), 'the 10 s 1080p H.264 fixture', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', '10', '-vf', 'noise=alls=6:allf=t'],
    ...['-c:v', 'libx264', '-preset', 'superfast', '-crf', '21', '-pix_fmt', 'yuv420p'],
    // A phone's bitrate for 1080p30; uncapped, the noise would make it twice that.
    ...['-maxrate', '16M', '-bufsize', '32M'],
    ...['-c:a', 'aac', '-b:a', '128k', '-shortest', '-movflags', '+faststart'],
  ]);

/**
 * The transcoder's variant set with ImageMagick, as efficiently as `convert` allows: one decode,
 * orient, strip, sRGB, then each size resized from the previous one (as the transcoder does) and
 * written as WebP and JPEG with the same quality settings; the thumbnail is a centre crop.
 */
export function imageMagickArgs(input: string, outDir: string): string[] {
  const args = [input, '-auto-orient', '-strip', '-colorspace', 'sRGB'];
  const webp = [
    '-quality',
    String(WEBP_OPTIONS.quality),
    '-define',
    `webp:method=${WEBP_OPTIONS.effort}`,
  ];
  const jpeg = ['-quality', String(JPEG_OPTIONS.quality), '-interlace', 'JPEG'];
  IMAGE_VARIANTS.forEach((variant, index) => {
    const size = `${variant.size}x${variant.size}`;
    if (variant.fit === 'inside') args.push('-resize', `${size}>`);
    else args.push('-resize', `${size}^`, '-gravity', 'center', '-extent', size);
    const last = index === IMAGE_VARIANTS.length - 1;
    args.push(
      '(',
      '+clone',
      ...webp,
      '-write',
      join(outDir, `${variant.name}.webp`),
      '+delete',
      ')',
    );
    if (last) args.push(...jpeg, join(outDir, `${variant.name}.jpg`));
    else
      args.push(
        '(',
        '+clone',
        ...jpeg,
        '-write',
        join(outDir, `${variant.name}.jpg`),
        '+delete',
        ')',
      );
  });
  return args;
}

/**
 * The variant set with libvips's own command-line tool (Debian's libvips-tools), the way a shell
 * script would drive it: decode once into an uncompressed .v file at the largest size (with
 * shrink-on-load and auto-orientation, as the transcoder's sharp call does), each smaller size
 * resized from the previous .v file, then one `vips copy` per output file at the same qualities,
 * the two encoders of a size run side by side (one per core, as the transcoder runs them).
 */
export async function vipsCli(input: string, outDir: string): Promise<number> {
  const start = process.hrtime.bigint();
  const env = { ...process.env, ...TRANSCODER_MALLOC_ENV };
  let source = input;
  for (const variant of IMAGE_VARIANTS) {
    const v = join(outDir, `${variant.name}.v`);
    const fit =
      variant.fit === 'inside' ? ['--size', 'down'] : ['--crop', 'centre', '--size', 'both'];
    await mustRun('vips', ['thumbnail', source, v, String(variant.size), ...fit], { env });
    source = v;
  }
  await Promise.all(
    IMAGE_VARIANTS.map(async (variant) => {
      const v = join(outDir, `${variant.name}.v`);
      // Sizes one after another, the two encoders of each side by side.
      await vipsQueue.run(() =>
        Promise.all([
          mustRun(
            'vips',
            [
              'copy',
              v,
              `${join(outDir, `${variant.name}.webp`)}[Q=${WEBP_OPTIONS.quality},effort=${WEBP_OPTIONS.effort},strip]`,
            ],
            { env },
          ),
          mustRun(
            'vips',
            [
              'copy',
              v,
              `${join(outDir, `${variant.name}.jpg`)}[Q=${JPEG_OPTIONS.quality},${JPEG_OPTIONS.progressive ? 'interlace,' : ''}strip]`,
            ],
            { env },
          ),
        ]),
      );
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs tasks one at a time, in the order they were queued. */
const vipsQueue = {
  tail: Promise.resolve() as Promise<unknown>,
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task);
    this.tail = next.catch(() => undefined);
    return next;
  },
};

/**
 * Runs, alone and timed, the transcode command of the transcoder's last run (the one writing
 * video.mp4, with the poster as a second output) on the upload itself instead of the copy of its
 * selected streams the transcoder reads (selected.mov: the same streams, no re-encoding), writing
 * into `dir`.
 */
async function ffmpegAlone(
  argsDir: string,
  transcoderOut: string,
  upload: string,
  dir: string,
): Promise<number> {
  const commands = readdirSync(argsDir).map((file) =>
    readFileSync(join(argsDir, file), 'utf8').split('\0').slice(0, -1),
  );
  const transcode = commands.find((args) =>
    args.some((arg) => arg.endsWith(join(transcoderOut, 'video.mp4'))),
  );
  if (transcode === undefined) {
    throw new Error(
      `no ffmpeg command wrote ${transcoderOut}/video.mp4 (${commands.length} recorded)`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const args = transcode.map((arg) =>
    arg.split(join(transcoderOut, 'selected.mov')).join(upload).split(transcoderOut).join(dir),
  );
  const out = await mustRun(localMediaTools.ffmpegPath, args);
  const written = readdirSync(dir).length;
  rmSync(dir, { recursive: true, force: true });
  if (written < 2)
    throw new Error(`the ffmpeg command alone wrote ${written} files (MP4 + poster expected)`);
  return out.ms;
}

interface ChildResult {
  readonly ms: number;
  /** The first run in the fresh process (sharp/libvips initialisation included). */
  readonly coldMs: number;
  readonly maxRssMb: number;
  readonly outputs: { name: string; bytes: number }[];
  /** Where it wrote them (deleted by then). */
  readonly outDir?: string;
}

export async function mediaFigures(options: MediaOptions): Promise<Row[]> {
  mkdirSync(options.fixtureDir, { recursive: true });
  // Under the repo (bench/results/ is gitignored) so the bundle resolves sharp from node_modules.
  mkdirSync(options.buildDir, { recursive: true });
  const work = mkdtempSync(join(options.buildDir, 'media-'));
  const rows: Row[] = [];
  try {
    const child = await bundleLikeCdk(
      resolve(__dirname, '../children/transcode.ts'),
      join(work, 'transcode'),
      ['sharp'],
    );
    // GNU time reports ffmpeg's own peak RSS; the transcoder takes the ffmpeg path from FFMPEG_PATH.
    const rssLog = join(work, 'ffmpeg-rss.txt');
    const wrapper = join(work, 'ffmpeg-timed.sh');
    // Each ffmpeg command the transcoder runs is recorded here (NUL-separated arguments, one file
    // per command), so video_vs_ffmpeg_cli can run exactly that command on its own.
    const argsDir = join(work, 'ffmpeg-args');
    mkdirSync(argsDir);
    const haveTime = existsSync('/usr/bin/time');
    const timed = haveTime ? `/usr/bin/time -a -o '${rssLog}' -f '%M' ` : '';
    writeFileSync(
      wrapper,
      `#!/bin/sh\nprintf '%s\\0' "$@" > "$(mktemp -p '${argsDir}' run.XXXXXX)"\n` +
        `exec ${timed}'${localMediaTools.ffmpegPath}' "$@"\n`,
      { mode: 0o755 },
    );
    // The transcoder finds rlimit-exec next to FFMPEG_PATH, as in the layer.
    symlinkSync(localMediaTools.rlimitExecPath, join(work, 'rlimit-exec'));
    const runChild = async (
      kind: 'image' | 'video',
      input: string,
      warmups = 0,
    ): Promise<ChildResult> => {
      const outDir = mkdtempSync(join(work, `${kind}-`));
      // The transcoder Lambda's own process environment (lib/constructs/transcoder.ts).
      const env = {
        ...process.env,
        ...TRANSCODER_MALLOC_ENV,
        FFMPEG_PATH: kind === 'video' ? wrapper : localMediaTools.ffmpegPath,
        FFPROBE_PATH: localMediaTools.ffprobePath,
      };
      const out = await mustRun(
        process.execPath,
        [child.file, kind, input, outDir, String(warmups)],
        {
          env,
        },
      );
      rmSync(outDir, { recursive: true, force: true });
      return { ...lastJsonLine<ChildResult>(out), outDir };
    };

    // --- image ---------------------------------------------------------------------------
    try {
      const image = await imageFixture(options.fixtureDir);
      const sharpMs: number[] = [];
      const magickMs: number[] = [];
      const coldMs: number[] = [];
      let rss = 0;
      let variants = 0;
      let magickOutputs = 0;
      const vipsMs: number[] = [];
      let vipsOutputs = 0;
      let mediumBytes = Number.NaN;
      progress(
        `image: transcoder vs ImageMagick and the vips CLI, ${options.imageRuns} interleaved runs each`,
      );
      for (let i = 0; i < options.imageRuns; i++) {
        // One untimed warm-up in the same process, as in a warm Lambda; the cold run is reported.
        const result = await runChild('image', image, 1);
        sharpMs.push(result.ms);
        coldMs.push(result.coldMs);
        rss = Math.max(rss, result.maxRssMb);
        variants = result.outputs.length;
        mediumBytes = result.outputs.find((o) => o.name === 'medium.webp')?.bytes ?? Number.NaN;
        const outDir = mkdtempSync(join(work, 'magick-'));
        // convert gets the same allocator settings as the transcoder (~4 % faster with them).
        const magick = await mustRun('convert', imageMagickArgs(image, outDir), {
          env: { ...process.env, ...TRANSCODER_MALLOC_ENV },
        });
        magickMs.push(magick.ms);
        magickOutputs = readdirSync(outDir).length;
        rmSync(outDir, { recursive: true, force: true });
        const vipsDir = mkdtempSync(join(work, 'vips-'));
        vipsMs.push(await vipsCli(image, vipsDir));
        vipsOutputs = readdirSync(vipsDir).filter((f) => !f.endsWith('.v')).length;
        rmSync(vipsDir, { recursive: true, force: true });
        progress(
          `  run ${i + 1}: transcoder ${result.ms.toFixed(0)} ms, convert ${magick.ms.toFixed(0)} ms, vips CLI ${vipsMs.at(-1)?.toFixed(0)} ms`,
        );
      }
      if (variants !== vipsOutputs) {
        throw new Error(`transcoder wrote ${variants} files, the vips CLI ${vipsOutputs}`);
      }
      if (variants !== magickOutputs) {
        throw new Error(`transcoder wrote ${variants} files, ImageMagick ${magickOutputs}`);
      }
      const speedup = median(magickMs) / median(sharpMs);
      // The image path's processing at the transcoder's memory (S3 transfers and its DynamoDB
      // writes are not part of this figure), and the CDN sending the medium WebP per view.
      recordConsumption(
        COST_ROUTES.transcodeImage,
        'Transcoder',
        {
          ms: median(sharpMs),
          rru: 0,
          wru: 0,
          ecpu: 0,
          egressBytes: ASSUMPTIONS.viewsPerMedia * mediumBytes,
          cdnRequests: ASSUMPTIONS.viewsPerMedia,
        },
        false,
      );
      rows.push(
        compared({
          name: 'image_variants_vs_imagemagick',
          value: median(sharpMs),
          unit: 'ms',
          baseline: `ImageMagick convert, same ${variants} outputs, ms`,
          baselineValue: median(magickMs),
          ratio: speedup,
          goal: 'speedup >= 5',
          met: (r) => r >= 5,
          note: `speedup = convert/transcoder; median of ${options.imageRuns}; transcoder warm (after 1 run in its process)`,
        }),
        compared({
          name: 'image_variants_vs_vips_cli',
          value: median(sharpMs),
          unit: 'ms',
          baseline: `vips CLI (libvips-tools): decode once to .v, one command per output, ${variants} outputs, ms`,
          baselineValue: median(vipsMs),
          ratio: median(vipsMs) / median(sharpMs),
          goal: 'speedup >= 1',
          met: (r) => r >= 1,
          note: `speedup = vips CLI/transcoder; median of ${options.imageRuns}; the CLI makes no blurhash`,
        }),
        reportOnly(
          'image_variants_cold_process',
          median(coldMs),
          'ms',
          `first image in a fresh process (libvips start-up): speedup ${(median(magickMs) / median(coldMs)).toFixed(2)}`,
        ),
        reportOnly('transcoder_image_12mp_peak_rss', rss, 'MiB', 'child process maxRSS'),
      );
    } catch (error) {
      rows.push(
        notMeasured('image_variants_vs_imagemagick', 'ms', 'speedup >= 5', String(error)),
        notMeasured('image_variants_vs_vips_cli', 'ms', 'speedup >= 1', String(error)),
      );
    }

    // --- video ---------------------------------------------------------------------------
    try {
      const video = await videoFixture(options.fixtureDir);
      const times: number[] = [];
      const cliTimes: number[] = [];
      let rss = 0;
      progress(
        `video: 10 s 1080p clip to 720p, ${options.videoRuns} runs, each followed by its ffmpeg command alone`,
      );
      for (let i = 0; i < options.videoRuns; i++) {
        for (const file of readdirSync(argsDir)) rmSync(join(argsDir, file));
        const result = await runChild('video', video);
        times.push(result.ms);
        rss = Math.max(rss, result.maxRssMb);
        cliTimes.push(
          await ffmpegAlone(argsDir, result.outDir ?? '', video, join(work, `ffmpeg-${i}`)),
        );
        progress(
          `  run ${i + 1}: ${result.ms.toFixed(0)} ms, its ffmpeg command alone ${cliTimes.at(-1)?.toFixed(0)} ms`,
        );
      }
      const seconds = median(times) / 1000;
      const factor = 10 / seconds;
      const ffmpegRss =
        haveTime && existsSync(rssLog)
          ? Math.max(
              ...readFileSync(rssLog, 'utf8')
                .split('\n')
                .map((line) => Number(line.trim()))
                .filter((x) => Number.isFinite(x) && x > 0),
            ) / 1024
          : Number.NaN;
      rows.push(
        compared({
          name: 'video_realtime_factor',
          value: factor,
          unit: 'x realtime',
          baseline: 'clip duration, s',
          baselineValue: 10,
          ratio: factor,
          goal: '>= 2x realtime',
          met: (r) => r >= 2,
          note: `processing ${seconds.toFixed(2)} s (median of ${options.videoRuns})`,
        }),
        compared({
          name: 'video_vs_ffmpeg_cli',
          value: median(times),
          unit: 'ms',
          baseline:
            'the transcode command the transcoder ran (MP4 and poster), run alone with the same ffmpeg, ms',
          baselineValue: median(cliTimes),
          ratio: median(cliTimes) / median(times),
          goal: 'ratio >= 0.9',
          met: (r) => r >= 0.9,
          note: `ratio = ffmpeg alone / whole video path; median of ${options.videoRuns}, interleaved`,
        }),
        reportOnly('transcoder_video_peak_rss_node', rss, 'MiB', 'child process maxRSS'),
        reportOnly(
          'transcoder_video_peak_rss_ffmpeg',
          ffmpegRss,
          'MiB',
          'ffmpeg maxRSS (GNU time)',
        ),
      );
    } catch (error) {
      rows.push(
        notMeasured('video_realtime_factor', 'x realtime', '>= 2x realtime', String(error)),
        notMeasured('video_vs_ffmpeg_cli', 'ms', 'ratio >= 0.9', String(error)),
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
