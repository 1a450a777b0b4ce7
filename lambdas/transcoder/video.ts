/**
 * Videos and animated GIFs with ffmpeg: probe, check the limits, then either copy the streams
 * (already H.264/AAC within our caps) or transcode to H.264 yuv420p + AAC-LC, faststart, longest
 * side <= 1280, bitrate capped. The poster is the first frame of the output: a transcode writes it
 * from the same run (split off after scaling), a stream copy decodes it from our own MP4.
 */
import { join } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { mediaFailure } from './failure';
import {
  ffmpeg,
  fileUrl,
  MAX_DECODED_PIXELS,
  probe,
  probeGif,
  probeHeaders,
  probeOutput,
  type FfmpegOutput,
  type FfmpegRunner,
  type ProbeResult,
  type ProbeStream,
} from './ffmpeg';
import { processPoster } from './image';
import type { OutputFile, ProcessedMedia } from './outputs';
import { VIDEO } from './settings';

const VIDEO_DECODERS = new Set([
  'h264',
  'hevc',
  'mpeg4',
  'h263',
  'vp8',
  'vp9',
  // No AV1: the layer's ffmpeg has no software AV1 decoder (docs/media.md, "The ffmpeg build").
  'prores',
  'mjpeg',
]);
const AUDIO_DECODERS = new Set([
  'aac',
  'mp3',
  'alac',
  'ac3',
  'eac3',
  'opus',
  'pcm_s16le',
  'pcm_s16be',
  'pcm_s24le',
  'pcm_s24be',
  'pcm_f32le',
]);
const COPYABLE_H264_PROFILES = new Set(['Constrained Baseline', 'Baseline', 'Main', 'High']);

export interface VideoLimits {
  readonly maxVideoSeconds: number;
}

export interface VideoPlan {
  /** Copy the streams instead of re-encoding. */
  readonly copy: boolean;
  /**
   * Nothing the container's headers show rules a stream copy out; whether it is one then takes
   * what only a decoder tells (pixel format, profiles).
   */
  readonly copyByHeaders: boolean;
  /** Input stream indexes to keep: the first real video stream and the first audio stream. */
  readonly videoStream: number;
  readonly audioStream?: number;
  /** Output display size, even, longest side <= VIDEO.maxLongSide. */
  readonly outWidth: number;
  readonly outHeight: number;
  /** Downmix to stereo (more than two channels in). */
  readonly downmix: boolean;
  /** Transcodes only: the audio is already AAC-LC within our caps, so it is copied as is. */
  readonly copyAudio: boolean;
  readonly durationMs: number;
}

/** Round down to even (H.264 4:2:0 needs it), so never above the source. */
const even = (n: number) => Math.max(2, 2 * Math.floor(n / 2));

function rate(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  if (!num || !Number.isFinite(num)) return 0;
  return den ? num / den : num;
}

/** Output dimensions: fit the longest side into VIDEO.maxLongSide, both even, never upscale. */
export function outputSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, VIDEO.maxLongSide / Math.max(width, height));
  return { width: even(width * scale), height: even(height * scale) };
}

/** Decides from ffprobe's JSON; throws a client-readable failure for anything we refuse. */
export function planVideo(probed: ProbeResult, limits: VideoLimits): VideoPlan {
  const streams = probed.streams ?? [];
  // Cover art comes as a single-picture "video" stream, thumbnails as a track of a few: not a
  // video (ffmpeg's stream specifier `V` skips the same).
  const videos = streams.filter(
    (s) =>
      s.codec_type === 'video' &&
      s.disposition?.attached_pic !== 1 &&
      s.disposition?.timed_thumbnails !== 1,
  );
  const audios = streams.filter((s) => s.codec_type === 'audio');
  const video: ProbeStream | undefined = videos[0];
  if (!video) throw mediaFailure('unsupported_codec', 'The file has no video stream.');
  if (!VIDEO_DECODERS.has(video.codec_name ?? '')) {
    throw mediaFailure(
      'unsupported_codec',
      `The video codec ${video.codec_name ?? 'unknown'} is not supported.`,
    );
  }
  const audio = audios[0];
  if (audio && !AUDIO_DECODERS.has(audio.codec_name ?? '')) {
    throw mediaFailure(
      'unsupported_codec',
      `The audio codec ${audio.codec_name ?? 'unknown'} is not supported.`,
    );
  }
  // Phones record rotated: ffmpeg autorotates before our scale filter, so plan in display terms.
  const { width, height } = displaySize(video);
  if (width <= 0 || height <= 0) {
    throw mediaFailure('corrupt_media', 'The video has no dimensions.');
  }
  if (Math.max(width, height) > VIDEO.maxInputSide) {
    throw mediaFailure(
      'video_too_large',
      `The video is ${width}x${height}; the limit is ${VIDEO.maxInputSide} pixels per side.`,
    );
  }
  // The longest of what the headers say (mvhd for the file, each track's own): one of them may
  // understate it. The output's measured duration is checked again after writing.
  const seconds = Math.max(
    ...[probed.format?.duration, video.duration, audio?.duration]
      .map(Number)
      .filter((n) => Number.isFinite(n)),
  );
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw mediaFailure('corrupt_media', 'The video has no duration.');
  }
  if (seconds > limits.maxVideoSeconds) {
    throw mediaFailure(
      'video_too_long',
      `The video is ${Math.ceil(seconds)} s long; the limit is ${limits.maxVideoSeconds} s.`,
    );
  }
  // ffprobe derives the average rate from the samples (or, for fragmented files, the packets):
  // without one the track has no frames, and r_frame_rate would only be the time base.
  const fps = rate(video.avg_frame_rate);
  if (fps === 0) throw mediaFailure('corrupt_media', 'The video stream has no frames.');
  if (fps > VIDEO.maxFps + 0.01) {
    throw mediaFailure(
      'frame_rate_too_high',
      `The video has ${Math.round(fps)} frames per second; the limit is ${VIDEO.maxFps}.`,
    );
  }
  const totalBitrate = Number(probed.format?.bit_rate ?? 0);
  const out = outputSize(width, height);
  const compliantAudio =
    !audio || (audio.codec_name === 'aac' && audio.profile === 'LC' && (audio.channels ?? 0) <= 2);
  const copyByHeaders =
    video.codec_name === 'h264' &&
    videos.length === 1 &&
    out.width === width &&
    out.height === height &&
    audios.length <= 1 &&
    (!audio || (audio.codec_name === 'aac' && (audio.channels ?? 0) <= 2));
  const copy =
    copyByHeaders &&
    video.pix_fmt === 'yuv420p' &&
    COPYABLE_H264_PROFILES.has(video.profile ?? '') &&
    totalBitrate > 0 &&
    totalBitrate <= VIDEO.maxCopyBitrate &&
    compliantAudio;
  const audioBitrate = Number(audio?.bit_rate ?? 0);
  return {
    copy,
    copyByHeaders,
    videoStream: video.index,
    ...(audio ? { audioStream: audio.index } : {}),
    outWidth: out.width,
    outHeight: out.height,
    downmix: (audio?.channels ?? 0) > 2,
    copyAudio:
      audio !== undefined &&
      compliantAudio &&
      audioBitrate > 0 &&
      audioBitrate <= VIDEO.maxCopyAudioBitrate,
    durationMs: Math.round(seconds * 1000),
  };
}

/** Output options shared by every MP4 we write: no metadata (GPS lives there), faststart. */
const MP4_OUTPUT = [
  '-map_metadata',
  '-1',
  '-map_chapters',
  '-1',
  '-movflags',
  '+faststart',
  '-fflags',
  '+bitexact',
  '-f',
  'mp4',
];

/**
 * The video filter graph of a transcode: ffmpeg autorotates the input first, then we scale to the
 * planned display size in 4:2:0 and split off the first frame for the poster, so the poster needs
 * no second decode and is the very picture the MP4 starts with (before H.264 compression).
 */
function videoFilter(input: string, width: number, height: number): string[] {
  return [
    '-filter_complex',
    `[${input}]scale=${width}:${height}:flags=bilinear,format=yuv420p,split=2[video][first];` +
      '[first]trim=end_frame=1[poster]',
    '-map',
    '[video]',
  ];
}

const H264_ARGS = [
  '-c:v',
  'libx264',
  '-preset',
  VIDEO.preset,
  '-crf',
  String(VIDEO.crf),
  '-bf',
  String(VIDEO.bFrames),
  '-maxrate',
  String(VIDEO.maxVideoBitrate),
  '-bufsize',
  String(VIDEO.maxVideoBitrate * 2),
  '-profile:v',
  'high',
  '-pix_fmt',
  'yuv420p',
  '-flags:v',
  '+bitexact',
];

/** A single PNG frame; fast zlib level, since sharp re-encodes it at once. */
const POSTER_FRAME_ARGS = [
  '-frames:v',
  '1',
  '-c:v',
  'png',
  '-compression_level',
  '1',
  '-f',
  'image2',
  '-update',
  '1',
];

const posterFramePath = (outDir: string) => join(outDir, 'poster-frame.png');

/**
 * The most any MP4 of ours may hold (`-fs`): the copy bitrate caps over the longest video, +10 %.
 * A transcode stays below it by its maxrate; a copy that reaches it is redone as a transcode.
 */
export const outputByteLimit = (maxSeconds: number) =>
  Math.ceil((((VIDEO.maxCopyBitrate + VIDEO.maxCopyAudioBitrate) * maxSeconds) / 8) * 1.1);

/**
 * SEI NAL units (type 6) carry encoder strings and any user data a camera or app put in the
 * stream (GPS, serial numbers); exiftool cannot see them, so a stream copy drops them all.
 */
const STRIP_H264_SEI = ['-bsf:v', 'filter_units=remove_types=6'];

/**
 * Outputs are cut one second past the limit: a video whose headers claim it is short but which
 * is longer shows it in what was written, and is refused (video_too_long) instead of served cut.
 */
const cutSeconds = (maxSeconds: number) => maxSeconds + 1;

/** Written output longer than this was cut: its input was longer than the limit. */
function checkWrittenDuration(seconds: number, maxSeconds: number): void {
  if (seconds > maxSeconds + 0.5) {
    throw mediaFailure(
      'video_too_long',
      `The video is longer than its headers say, and longer than ${maxSeconds} s.`,
    );
  }
}

function transcodeArgs(plan: VideoPlan, maxSeconds: number): string[] {
  const seconds = cutSeconds(maxSeconds);
  const limit = ['-t', String(seconds), '-fs', String(outputByteLimit(seconds))];
  if (plan.copy) {
    const maps = ['-map', `0:${plan.videoStream}`];
    if (plan.audioStream !== undefined) maps.push('-map', `0:${plan.audioStream}`);
    return [...maps, '-c', 'copy', ...STRIP_H264_SEI, ...limit, ...MP4_OUTPUT];
  }
  const audio =
    plan.audioStream === undefined
      ? []
      : [
          '-map',
          `0:${plan.audioStream}`,
          ...(plan.copyAudio
            ? ['-c:a', 'copy']
            : [
                '-c:a',
                'aac',
                '-profile:a',
                'aac_low',
                '-b:a',
                String(VIDEO.audioBitrate),
                ...(plan.downmix ? ['-ac', '2'] : []),
              ]),
        ];
  return [
    ...videoFilter(`0:${plan.videoStream}`, plan.outWidth, plan.outHeight),
    ...H264_ARGS,
    ...audio,
    ...limit,
    ...MP4_OUTPUT,
  ];
}

function displaySize(stream: ProbeStream): { width: number; height: number } {
  const { width = 0, height = 0 } = stream;
  const rotation =
    stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ??
    Number(stream.tags?.rotate ?? 0);
  return Math.abs(rotation) % 180 === 90 ? { width: height, height: width } : { width, height };
}

type Poster = Awaited<ReturnType<typeof processPoster>>;

/** The result: the MP4 and the poster (WebP + JPEG and blurhash). */
async function assemble(
  mp4Path: string,
  poster: Poster,
  size: { readonly width: number; readonly height: number },
  durationMs: number,
): Promise<ProcessedMedia> {
  const video: OutputFile = {
    name: 'video',
    path: mp4Path,
    extension: 'mp4',
    contentType: 'video/mp4',
    width: size.width,
    height: size.height,
    bytes: (await stat(mp4Path)).size,
  };
  return {
    width: size.width,
    height: size.height,
    durationMs,
    blurhash: poster.blurhash,
    files: [video, ...poster.files],
  };
}

/**
 * What a stream copy really wrote, checked before it is served: container headers can lie about
 * the duration (so the bitrate), and an SPS after the first can change the picture size. A copy
 * whose every keyframe has the planned size and whose real bitrate is within the cap is kept;
 * anything else is transcoded instead, which decodes and scales every frame.
 */
function copyIsFaithful(
  written: Awaited<ReturnType<typeof probeOutput>>,
  plan: VideoPlan,
  maxSeconds: number,
): boolean {
  const { durationSeconds, bytes, keyframes, errors } = written;
  return (
    errors === '' &&
    keyframes.length > 0 &&
    keyframes.every((k) => k.width * k.height === plan.outWidth * plan.outHeight) &&
    durationSeconds > 0 &&
    bytes < outputByteLimit(cutSeconds(maxSeconds)) * 0.99 &&
    (bytes * 8) / durationSeconds <= VIDEO.maxCopyBitrate + VIDEO.maxCopyAudioBitrate
  );
}

/**
 * x264's VBV promises at most maxrate x duration plus one buffer (bufsize = 2 x maxrate) of
 * video; content no quantiser can squeeze that far (pure noise) overshoots it, and is refused
 * rather than served at several times the cap.
 */
function checkWrittenBitrate(bytes: number, seconds: number): void {
  const bound =
    ((VIDEO.maxVideoBitrate + VIDEO.maxCopyAudioBitrate) * seconds + 2 * VIDEO.maxVideoBitrate) *
    1.1;
  if (bytes * 8 > bound) {
    throw mediaFailure(
      'video_too_large',
      `The video does not compress to ${VIDEO.maxVideoBitrate / 1e6} Mbit/s.`,
    );
  }
}

/**
 * The duration of what we wrote: the input's headers may claim anything. A video cut at the
 * limit is refused when `maxSeconds` is given (a GIF is simply cut, as documented).
 */
async function writtenDurationMs(
  runner: FfmpegRunner,
  mp4Path: string,
  maxSeconds?: number,
): Promise<number> {
  const written = await probeOutput(runner, mp4Path, MAX_DECODED_PIXELS);
  if (written.keyframes.length === 0 || !(written.durationSeconds > 0)) {
    throw mediaFailure('corrupt_media', 'The video has no frames that can be decoded.');
  }
  if (maxSeconds !== undefined) checkWrittenDuration(written.durationSeconds, maxSeconds);
  checkWrittenBitrate(written.bytes, written.durationSeconds);
  return Math.round(written.durationSeconds * 1000);
}

/**
 * The streams we keep, copied into a file of their own before anything is decoded: the first
 * video stream that is not cover art (`V`) and the first audio stream. The copy opens no decoder,
 * and the upload's headers are checked (planVideo: streams, allow-listed codecs, size, duration,
 * frame rate) while it runs, by an ffprobe that opens none either; their refusal stops the copy
 * and is the answer. So no other track of the upload, whatever its codec, is ever probed or
 * decoded: every later probe and decode reads this file, which also has no edit lists left. The
 * copy is cut one second past the limit, and ffmpeg reports how long it is: longer than the limit
 * is refused (headers may claim less). A copy can only grow past the upload's size if its sample
 * tables point at the same bytes again and again (an amplification), which is refused too.
 * Returns the copy and its plan from the upload's headers (stream indexes as in the copy).
 */
async function selectStreams(
  runner: FfmpegRunner,
  path: string,
  outDir: string,
  limits: VideoLimits,
): Promise<{ readonly selected: string; readonly headers: VideoPlan }> {
  const selected = join(outDir, 'selected.mov');
  const progress = join(outDir, 'copy-progress.txt');
  const limit = Math.ceil((await stat(path)).size * 1.05) + 1024 ** 2;
  const refused = new AbortController();
  const [headers, copy] = await Promise.allSettled([
    probeHeaders(runner, path)
      .then((probed) =>
        planVideo(assumingAacLc(asCopied(probed, planVideo(probed, limits))), limits),
      )
      .catch((error: unknown) => {
        refused.abort();
        throw error;
      }),
    ffmpeg(
      runner,
      { demuxer: 'mov', path, options: { analyzeStreams: false } },
      [
        ...['-map', '0:V:0', '-map', '0:a:0?', '-c', 'copy'],
        ...['-t', String(cutSeconds(limits.maxVideoSeconds)), '-fs', String(limit)],
        ...['-progress', fileUrl(progress), '-f', 'mov'],
      ],
      selected,
      [],
      refused.signal,
    ),
  ]);
  if (headers.status === 'rejected') throw headers.reason;
  if (copy.status === 'rejected') throw copy.reason;
  // ffmpeg's report ends with the last block's out_time_us: how far the copy got.
  const copiedUs = [...(await readFile(progress, 'utf8')).matchAll(/^out_time_us=(\d+)$/gm)].pop();
  if (copiedUs === undefined) throw mediaFailure('corrupt_media', 'The video has no frames.');
  checkWrittenDuration(Number(copiedUs[1]) / 1e6, limits.maxVideoSeconds);
  if ((await stat(selected)).size >= limit * 0.99) {
    throw mediaFailure('corrupt_media', 'The video refers to the same data over and over.');
  }
  return { selected, headers: headers.value };
}

/** The upload's header probe narrowed to the streams `plan` chose, indexed as in the copy. */
function asCopied(probed: ProbeResult, plan: VideoPlan): ProbeResult {
  const chosen = [plan.videoStream, plan.audioStream].filter((i) => i !== undefined);
  return {
    ...probed,
    streams: chosen.flatMap((index, at) =>
      (probed.streams ?? []).filter((s) => s.index === index).map((s) => ({ ...s, index: at })),
    ),
  };
}

/**
 * Runs a transcode whose second output is the poster frame (killed if `signal` aborts), then
 * measures the written MP4 (see writtenDurationMs) while sharp encodes the poster: one waits for
 * the other's start-up rather than each for the whole of the other. (Encoding the poster during
 * the transcode instead took more from x264's two cores than it saved: measured, bench/README.md.)
 * A failure of the measurement comes first.
 */
async function transcode(
  runner: FfmpegRunner,
  input: { readonly demuxer: 'mov' | 'gif'; readonly path: string },
  outDir: string,
  args: string[],
  size: { readonly width: number; readonly height: number },
  maxSeconds?: number,
  signal?: AbortSignal,
): Promise<ProcessedMedia> {
  const mp4Path = join(outDir, 'video.mp4');
  await ffmpeg(runner, input, args, mp4Path, [posterOutput(outDir)], signal);
  const [measured, poster] = await Promise.allSettled([
    writtenDurationMs(runner, mp4Path, maxSeconds),
    processPoster(posterFramePath(outDir), outDir),
  ]);
  if (measured.status === 'rejected') throw measured.reason;
  if (poster.status === 'rejected') throw poster.reason;
  return assemble(mp4Path, poster.value, size, measured.value);
}

/**
 * What the plan decides for the selected streams: a stream copy kept if faithful, else a
 * transcode. Width and height (display orientation) come from the plan: a transcode scales to
 * exactly that size, and a copy is only kept if every keyframe has it. The duration is the
 * output's.
 */
async function copyOrTranscode(
  runner: FfmpegRunner,
  selected: string,
  plan: VideoPlan,
  outDir: string,
  limits: VideoLimits,
): Promise<ProcessedMedia & { readonly copied: boolean }> {
  const mp4Path = join(outDir, 'video.mp4');
  const size = { width: plan.outWidth, height: plan.outHeight };
  if (plan.copy) {
    await ffmpeg(
      runner,
      { demuxer: 'mov', path: selected },
      transcodeArgs(plan, limits.maxVideoSeconds),
      mp4Path,
    );
    const written = await probeOutput(runner, mp4Path, plan.outWidth * plan.outHeight);
    checkWrittenDuration(written.durationSeconds, limits.maxVideoSeconds);
    if (copyIsFaithful(written, plan, limits.maxVideoSeconds)) {
      // A copy decodes nothing: the poster is decoded from our MP4 (autorotated, like the player).
      await ffmpeg(
        runner,
        { demuxer: 'mov', path: mp4Path },
        ['-map', '0:v:0', ...POSTER_FRAME_ARGS],
        posterFramePath(outDir),
      );
      const poster = await processPoster(posterFramePath(outDir), outDir);
      const durationMs = Math.round(written.durationSeconds * 1000);
      return { ...(await assemble(mp4Path, poster, size, durationMs)), copied: true };
    }
  }
  const args = transcodeArgs({ ...plan, copy: false }, limits.maxVideoSeconds);
  const input = { demuxer: 'mov', path: selected } as const;
  const result = await transcode(runner, input, outDir, args, size, limits.maxVideoSeconds);
  return { ...result, copied: false };
}

/**
 * The AAC profile is what a header probe cannot tell (the decoder reports it): assumed to be the
 * common AAC-LC, for a plan that the decoder's probe then confirms.
 */
function assumingAacLc(probed: ProbeResult): ProbeResult {
  return {
    ...probed,
    streams: probed.streams?.map((s) =>
      s.codec_type === 'audio' && s.codec_name === 'aac' && s.profile === undefined
        ? { ...s, profile: 'LC' }
        : s,
    ),
  };
}

/**
 * Every limit is checked before anything is decoded: on the upload's headers (which streams,
 * allow-listed codecs, size, duration, frame rate) and on the length of the copy of its streams
 * (cut one second past the limit, whatever the headers claimed). A video whose headers already
 * rule out a stream copy (the common 1080p or 4K phone video) is transcoded at once on their plan,
 * while ffprobe reads the copy with its decoders as before (pixel format, profiles, the size the
 * stream really codes): should that probe refuse the file or plan any other command, the
 * transcode is stopped, and the probe's failure or plan is what counts. Each ffmpeg/ffprobe start
 * costs 0.1-0.2 s here, so the probes no longer delay the transcode.
 */
export async function processVideo(
  runner: FfmpegRunner,
  input: string,
  outDir: string,
  limits: VideoLimits,
): Promise<ProcessedMedia & { readonly copied: boolean }> {
  const { selected, headers: early } = await selectStreams(runner, input, outDir, limits);
  const decoded = () => probe(runner, 'mov', selected).then((p) => planVideo(p, limits));
  if (early.copyByHeaders) {
    return copyOrTranscode(runner, selected, await decoded(), outDir, limits);
  }
  const args = transcodeArgs({ ...early, copy: false }, limits.maxVideoSeconds);
  const size = { width: early.outWidth, height: early.outHeight };
  const stop = new AbortController();
  const streams = { demuxer: 'mov', path: selected } as const;
  const max = limits.maxVideoSeconds;
  const encoding = transcode(runner, streams, outDir, args, size, max, stop.signal);
  encoding.catch(() => undefined);
  const [plan] = await Promise.allSettled([decoded()]);
  const confirmed =
    plan.status === 'fulfilled' &&
    !plan.value.copy &&
    isDeepStrictEqual(transcodeArgs(plan.value, limits.maxVideoSeconds), args);
  if (!confirmed) {
    stop.abort();
    await encoding.catch(() => undefined);
    if (plan.status === 'rejected') throw plan.reason;
    return copyOrTranscode(runner, selected, plan.value, outDir, limits);
  }
  return { ...(await encoding), copied: false };
}

const posterOutput = (outDir: string): FfmpegOutput => ({
  args: ['-map', '[poster]', ...POSTER_FRAME_ARGS],
  path: posterFramePath(outDir),
});

/**
 * Animated GIF to a silent H.264 MP4 (as Twitter and Mastodon serve them) plus a poster. The
 * budget is checked against ffmpeg's own view of the file (libvips may count other frames or
 * another size), and the decoder enforces it while it works: no picture above MAX_DECODED_PIXELS
 * (-max_pixels, in hardenedInput), no more frames than its demuxer counted.
 */
export async function processAnimatedGif(
  runner: FfmpegRunner,
  path: string,
  outDir: string,
  limits: VideoLimits,
): Promise<ProcessedMedia> {
  const gif = await probeGif(runner, path);
  if (gif.width <= 0 || gif.height <= 0 || gif.frames <= 0) {
    throw mediaFailure('corrupt_media', 'The GIF has no frames that can be decoded.');
  }
  if (
    Math.max(gif.width, gif.height) > VIDEO.maxInputSide ||
    gif.width * gif.height * gif.frames > VIDEO.maxGifFramePixels
  ) {
    throw mediaFailure(
      'video_too_large',
      `The GIF has ${gif.frames} frames of ${gif.width}x${gif.height}, more than we convert.`,
    );
  }
  const out = outputSize(gif.width, gif.height);
  const args = [
    ...videoFilter('0:v:0', out.width, out.height),
    '-an',
    ...H264_ARGS,
    '-frames:v',
    String(gif.frames),
    '-t',
    String(limits.maxVideoSeconds),
    '-fs',
    String(outputByteLimit(limits.maxVideoSeconds)),
    ...MP4_OUTPUT,
  ];
  // The frame delays decide a GIF's duration: measure what we wrote.
  return transcode(runner, { demuxer: 'gif', path }, outDir, args, out);
}
