/**
 * Processing limits and tool locations. Product limits shared with the API (accepted types and
 * sizes) live in the app model; these are the transcoder's own.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { ENV, TRANSCODER_FUNCTION } from '../../app/model';
import { intEnv, optionalEnv } from '../platform/config';

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

/**
 * Memory an image may need before its first row of pixels comes out: an interlaced PNG is held
 * whole at its bit depth, a progressive JPEG as 16-bit DCT coefficients. 128 MiB takes an 8-bit
 * RGBA interlaced PNG or a 4:2:0 progressive JPEG up to the pixel cap; a 16-bit RGBA interlaced
 * PNG at the cap needs 256 MiB (the process peaked at 440 MiB on one).
 */
export const MAX_WHOLE_DECODE_BYTES = 128 * 1024 ** 2;

/**
 * Scans of a progressive JPEG: encoders write 10 or fewer (libjpeg's progression has 10), while
 * each scan costs a pass over every block, inside libjpeg, where sharp's timeout cannot stop it.
 */
export const MAX_JPEG_SCANS = 100;

/**
 * sharp's budget for decoding one image: a 12 MP photo takes ~0.1 s of CPU (docs/media.md,
 * "Measured"), while a crafted progressive JPEG of 2,090 scans took ~20 s.
 */
export const IMAGE_DECODE_TIMEOUT_SECONDS = 10;

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
/**
 * Budget of one ffprobe run: a legit probe takes well under a second (0.24-0.35 s for the bench's
 * 1080p clip), so a file that keeps it busy longer is refused long before the run's deadline.
 */
export const PROBE_TIMEOUT_MS = 20_000;
/** ffmpeg input analysis limits: enough for phone videos, bounded for hostile ones. */
export const PROBE_SIZE_BYTES = 20_000_000;
export const ANALYZE_DURATION_US = 20_000_000;
/**
 * Address space of every ffmpeg/ffprobe run (set by the layer's rlimit-exec): with the Node process
 * (~0.6 GiB with libvips) it stays below the transcoder's 3538 MB, so a memory bomb makes the tool
 * fail its allocation instead of Lambda killing the sandbox. Legit 4K inputs peak near 0.6 GiB.
 */
export const TOOL_MEMORY_BYTES = 2 * 1024 ** 3;
/** Largest single allocation a tool may make (-max_alloc): a 4096x4096 frame plane is 16 MiB. */
export const TOOL_MAX_ALLOC_BYTES = 256 * 1024 ** 2;
/** Streams a container may declare (-max_streams): phones write up to ~6 (video, audio, metadata). */
export const MAX_INPUT_STREAMS = 16;

/** A media record whose runs die this many times is failed instead of retried again. */
export const MAX_PROCESSING_ATTEMPTS = 3;

/**
 * A claim's lease: no run outlives the transcoder's timeout, so a claim older than this belongs to
 * a run that died, and taking it over counts as an attempt (lambdas/transcoder/state.ts).
 */
// (10 s is the default both runtimes give a spec without a timeout.)
export const PROCESSING_LEASE_SECONDS = TRANSCODER_FUNCTION.timeoutSeconds ?? 10;

export interface MediaTools {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  /** The layer's rlimit-exec, which starts every tool run under TOOL_MEMORY_BYTES. */
  readonly rlimitExecPath: string;
  readonly maxVideoSeconds: number;
}

/**
 * Tool paths from FFMPEG_PATH / FFPROBE_PATH (the Lambda layer and the local stack set them),
 * else PATH; rlimit-exec is built into the same folder as ffmpeg.
 */
export function mediaToolsFromEnv(): MediaTools {
  const ffmpegPath = optionalEnv(ENV.ffmpegPath) ?? 'ffmpeg';
  return {
    ffmpegPath,
    ffprobePath: optionalEnv(ENV.ffprobePath) ?? 'ffprobe',
    rlimitExecPath: isAbsolute(ffmpegPath)
      ? join(dirname(ffmpegPath), 'rlimit-exec')
      : 'rlimit-exec',
    maxVideoSeconds: intEnv(ENV.maxVideoSeconds, 140),
  };
}
