/**
 * Processing limits and tool locations. Product limits shared with the API (accepted types and
 * sizes) live in the app model; these are the transcoder's own.
 */
import { ENV } from '../../app/model';
import { intEnv, optionalEnv } from '../shared/config';

/** Bump when outputs change for the same input, so content-addressed keys change with them. */
export const PIPELINE_VERSION = 'v2';

/** About what Mastodon accepts (33 MP): larger images fail fast as `image_too_large`. */
export const MAX_IMAGE_PIXELS = 8192 * 4096;

/** Image variants, largest first. `fit: inside` keeps the aspect; `cover` crops a square. */
export const IMAGE_VARIANTS = [
  { name: 'large', size: 2048, fit: 'inside' },
  { name: 'medium', size: 1200, fit: 'inside' },
  { name: 'small', size: 680, fit: 'inside' },
  { name: 'thumb', size: 150, fit: 'cover' },
] as const;

/** effort 1: ~10 % less CPU than 2 for ~1 % larger files (measured on a 12 MP set). */
export const WEBP_OPTIONS = { quality: 80, effort: 1 } as const;
export const JPEG_OPTIONS = { quality: 82, progressive: true, mozjpeg: false } as const;

export const VIDEO = {
  /** Longest side of the output. */
  maxLongSide: 1280,
  /** Largest input we decode (4K and a bit). */
  maxInputSide: 4096,
  maxFps: 60,
  /** Video bitrate cap of a transcode (maxrate), and the total bitrate a stream copy may keep. */
  maxVideoBitrate: 4_000_000,
  maxCopyBitrate: 5_000_000,
  audioBitrate: 128_000,
  /** AAC-LC audio (<= 2 channels) up to this bitrate is copied into a transcode, not re-encoded. */
  maxCopyAudioBitrate: 192_000,
  preset: 'veryfast',
  crf: 23,
  /**
   * x264 B-frames (veryfast uses 3). One B-frame: 18-25 % less x264 CPU for the same size and
   * SSIM/PSNR on the bench clips (docs/media.md, "Measured").
   */
  bFrames: 1,
  /** Animated GIFs: cap frames x pixels so a tiny file cannot demand hours of encoding. */
  maxGifFramePixels: 1_000_000_000,
} as const;

/** Every ffmpeg/ffprobe run is killed after this, or earlier if the Lambda is running out of time. */
export const TOOL_TIMEOUT_MS = 240_000;
/** ffmpeg input analysis limits: enough for phone videos, bounded for hostile ones. */
export const PROBE_SIZE_BYTES = 20_000_000;
export const ANALYZE_DURATION_US = 20_000_000;

/** A media record that tries and crashes this many times is failed instead of retried again. */
export const MAX_PROCESSING_ATTEMPTS = 3;

export interface MediaTools {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  readonly maxVideoSeconds: number;
}

/** Tool paths from FFMPEG_PATH / FFPROBE_PATH (the Lambda layer sets them), else PATH. */
export function mediaToolsFromEnv(): MediaTools {
  return {
    ffmpegPath: optionalEnv(ENV.ffmpegPath) ?? 'ffmpeg',
    ffprobePath: optionalEnv(ENV.ffprobePath) ?? 'ffprobe',
    maxVideoSeconds: intEnv(ENV.maxVideoSeconds, 140),
  };
}
