/**
 * Videos and animated GIFs with ffmpeg: probe, check the limits, then either copy the streams
 * (already H.264/AAC within our caps) or transcode to H.264 yuv420p + AAC-LC, faststart, longest
 * side <= 1280, bitrate capped. The poster is the first frame of the output: a transcode writes it
 * from the same run (split off after scaling), a stream copy decodes it from our own MP4.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { mediaFailure } from './failure';
import {
  ffmpeg,
  probe,
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
  'av1',
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
  // Cover art comes as a single-picture "video" stream: not a video.
  const videos = streams.filter(
    (s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1,
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
  const seconds = Number(probed.format?.duration ?? video.duration ?? NaN);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw mediaFailure('corrupt_media', 'The video has no duration.');
  }
  if (seconds > limits.maxVideoSeconds) {
    throw mediaFailure(
      'video_too_long',
      `The video is ${Math.ceil(seconds)} s long; the limit is ${limits.maxVideoSeconds} s.`,
    );
  }
  const fps = rate(video.avg_frame_rate) || rate(video.r_frame_rate);
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
  const copy =
    video.codec_name === 'h264' &&
    video.pix_fmt === 'yuv420p' &&
    COPYABLE_H264_PROFILES.has(video.profile ?? '') &&
    videos.length === 1 &&
    out.width === width &&
    out.height === height &&
    totalBitrate > 0 &&
    totalBitrate <= VIDEO.maxCopyBitrate &&
    audios.length <= 1 &&
    compliantAudio;
  const audioBitrate = Number(audio?.bit_rate ?? 0);
  return {
    copy,
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

function transcodeArgs(plan: VideoPlan, maxSeconds: number): string[] {
  const limit = ['-t', String(maxSeconds)];
  if (plan.copy) {
    const maps = ['-map', `0:${plan.videoStream}`];
    if (plan.audioStream !== undefined) maps.push('-map', `0:${plan.audioStream}`);
    return [...maps, '-c', 'copy', ...limit, ...MP4_OUTPUT];
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

/** The poster frame as WebP + JPEG and blurhash, and the result. */
async function assemble(
  mp4Path: string,
  outDir: string,
  size: { readonly width: number; readonly height: number },
  durationMs: number,
): Promise<ProcessedMedia> {
  const poster = await processPoster(posterFramePath(outDir), outDir);
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
 * Width, height (display orientation) and duration come from the input's probe: a transcode scales
 * to exactly the planned size, and a copy keeps the streams (and their rotation) as they were.
 */
export async function processVideo(
  runner: FfmpegRunner,
  path: string,
  outDir: string,
  limits: VideoLimits,
): Promise<ProcessedMedia & { readonly copied: boolean }> {
  const plan = planVideo(await probe(runner, 'mov', path), limits);
  const mp4Path = join(outDir, 'video.mp4');
  const args = transcodeArgs(plan, limits.maxVideoSeconds);
  if (plan.copy) {
    await ffmpeg(runner, { demuxer: 'mov', path }, args, mp4Path);
    // A copy decodes nothing: the poster is decoded from our MP4 (autorotated, like the player).
    await ffmpeg(
      runner,
      { demuxer: 'mov', path: mp4Path },
      ['-map', '0:v:0', ...POSTER_FRAME_ARGS],
      posterFramePath(outDir),
    );
  } else {
    await ffmpeg(runner, { demuxer: 'mov', path }, args, mp4Path, [posterOutput(outDir)]);
  }
  const size = { width: plan.outWidth, height: plan.outHeight };
  return { ...(await assemble(mp4Path, outDir, size, plan.durationMs)), copied: plan.copy };
}

const posterOutput = (outDir: string): FfmpegOutput => ({
  args: ['-map', '[poster]', ...POSTER_FRAME_ARGS],
  path: posterFramePath(outDir),
});

export interface GifInfo {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

/** Animated GIF to a silent H.264 MP4 (as Twitter and Mastodon serve them) plus a poster. */
export async function processAnimatedGif(
  runner: FfmpegRunner,
  path: string,
  gif: GifInfo,
  outDir: string,
  limits: VideoLimits,
): Promise<ProcessedMedia> {
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
  const mp4Path = join(outDir, 'video.mp4');
  await ffmpeg(
    runner,
    { demuxer: 'gif', path },
    [
      ...videoFilter('0:v:0', out.width, out.height),
      '-an',
      ...H264_ARGS,
      '-t',
      String(limits.maxVideoSeconds),
      ...MP4_OUTPUT,
    ],
    mp4Path,
    [posterOutput(outDir)],
  );
  // The frame delays decide a GIF's duration: probe what we wrote.
  const probed = await probe(runner, 'mov', mp4Path);
  const durationMs = Math.round(Number(probed.format?.duration ?? 0) * 1000);
  return assemble(mp4Path, outDir, out, durationMs);
}
