// Own code: fluent-ffmpeg is archived (2025) and unmaintained; one hardened spawn is all this needs (docs/own-code.md).
/**
 * The only way this code runs ffmpeg and ffprobe. Every run is hardened for untrusted input:
 * - `-nostdin`, and stdin closed;
 * - `-protocol_whitelist file`: no network, no pipes, no nested protocols such as concat: or
 *   subfile:, so a file that smuggles in a playlist cannot make ffmpeg open a connection;
 * - the demuxer is forced from the sniffed format and only `mov` and `gif` are allowed, so HLS,
 *   concat, image2 patterns and every other demuxer that reads further files are unreachable;
 *   QuickTime external data references stay disabled (`-enable_drefs 0`);
 * - QuickTime edit lists are ignored (`-ignore_editlist 1`): one that repeats a segment 140 times
 *   would make a stream copy 140 times larger than the file;
 * - memory is bounded before any of our checks run: the address space by the layer's rlimit-exec,
 *   every single allocation by `-max_alloc`, the streams a container may declare by
 *   `-max_streams`, and every decoded picture by `-max_pixels`, so a bomb ends as an error exit;
 * - bounded probesize/analyzeduration, and a wall-clock timeout that SIGKILLs the process: probes
 *   get PROBE_TIMEOUT_MS (a legit one takes well under a second), every run at most what is left
 *   of the run's deadline;
 * - inputs and outputs are absolute paths given with the explicit `file:` protocol.
 * The layer's build (scripts/build-ffmpeg.sh) compiles in only the `file` protocol and the mov and
 * gif demuxers in the first place, so the options above are a second line of defence.
 */
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { mediaFailure } from './failure';
import { TRANSCODER_MALLOC_ENV } from '../../app/model';
import {
  ANALYZE_DURATION_US,
  MAX_INPUT_STREAMS,
  PROBE_SIZE_BYTES,
  PROBE_TIMEOUT_MS,
  TOOL_MAX_ALLOC_BYTES,
  TOOL_MEMORY_BYTES,
  VIDEO,
} from './settings';

export type Demuxer = 'mov' | 'gif';
const ALLOWED_DEMUXERS: ReadonlySet<string> = new Set<Demuxer>(['mov', 'gif']);

export class ToolTimeoutError extends Error {
  constructor(tool: string, timeoutMs: number) {
    super(`${tool} exceeded its ${timeoutMs} ms budget and was killed`);
    this.name = 'ToolTimeoutError';
  }
}

/** The caller stopped the run (its result was no longer wanted); not the file's fault. */
export class ToolAbortedError extends Error {
  constructor(tool: string) {
    super(`${tool} was stopped by its caller`);
    this.name = 'ToolAbortedError';
  }
}

export class ToolExitError extends Error {
  constructor(
    tool: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    super(`${tool} exited with ${signal ?? exitCode}: ${stderr.slice(-500)}`);
    this.name = 'ToolExitError';
  }
}

/** A local file path as an ffmpeg URL. Relative paths or other protocols are refused. */
export function fileUrl(path: string): string {
  if (!isAbsolute(path) || path.includes('\n')) {
    throw new Error(`refusing non-absolute media path ${JSON.stringify(path)}`);
  }
  return `file:${path}`;
}

/** Largest picture any decoder may allocate: the input size limit, squared. */
export const MAX_DECODED_PIXELS = VIDEO.maxInputSide * VIDEO.maxInputSide;

/** Options of the tool itself, before any input. */
const TOOL_OPTIONS = ['-max_alloc', String(TOOL_MAX_ALLOC_BYTES)];

export interface InputOptions {
  /** Decoder picture cap (-max_pixels). @default MAX_DECODED_PIXELS */
  readonly maxPixels?: number;
  /** Extra decoder options, such as `-skip_frame nokey`. */
  readonly decoder?: readonly string[];
  /**
   * false: read the container's headers only, no decoder opened (`-nofind_stream_info`). Without
   * it, ffmpeg decodes a few frames of every stream of the file to describe them, whatever codec
   * an extra track carries and whether we map it or not.
   */
  readonly analyzeStreams?: boolean;
}

/** Input options every run gets, ending with `-i file:<path>`. */
export function hardenedInput(
  demuxer: Demuxer,
  path: string,
  options: InputOptions = {},
): string[] {
  if (!ALLOWED_DEMUXERS.has(demuxer)) {
    throw new Error(`refusing demuxer ${JSON.stringify(demuxer)}`);
  }
  return [
    '-protocol_whitelist',
    'file',
    '-probesize',
    String(PROBE_SIZE_BYTES),
    '-analyzeduration',
    String(ANALYZE_DURATION_US),
    '-max_streams',
    String(MAX_INPUT_STREAMS),
    '-max_pixels',
    String(options.maxPixels ?? MAX_DECODED_PIXELS),
    ...(options.decoder ?? []),
    ...(options.analyzeStreams === false ? ['-nofind_stream_info'] : []),
    ...(demuxer === 'mov'
      ? ['-enable_drefs', '0', '-ignore_editlist', '1']
      : ['-ignore_loop', '1']),
    '-f',
    demuxer,
    '-i',
    fileUrl(path),
  ];
}

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_CAPTURE = 1024 * 1024;

/**
 * The tools' environment: ours without the malloc settings meant for libvips in this process
 * (with them ffmpeg takes ~20 % more page faults), and with two malloc arenas: glibc reserves
 * 64 MiB of address space per arena, and ffmpeg's many threads would spend the rlimit on them.
 */
function toolEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(TRANSCODER_MALLOC_ENV)) delete env[name];
  env.MALLOC_ARENA_MAX = '2';
  return env;
}

export interface ToolLimits {
  readonly timeoutMs: number;
  /** rlimit-exec, which caps the tool's address space at TOOL_MEMORY_BYTES. */
  readonly rlimitExecPath: string;
  /** Kills the tool (SIGKILL) when aborted; the run then rejects with ToolAbortedError. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a tool under its memory cap with stdin closed, capturing bounded output, killed at the
 * deadline or when its signal aborts.
 */
export function runTool(binary: string, args: string[], limits: ToolLimits): Promise<RunResult> {
  const { timeoutMs } = limits;
  return new Promise((resolve, reject) => {
    const child = spawn(limits.rlimitExecPath, [String(TOOL_MEMORY_BYTES), binary, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const aborted = () => child.kill('SIGKILL');
    limits.signal?.addEventListener('abort', aborted, { once: true });
    if (limits.signal?.aborted) aborted();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-16_384);
    });
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
      },
      Math.max(1, timeoutMs),
    );
    const settle = () => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', aborted);
    };
    child.on('error', (error) => {
      settle();
      reject(error);
    });
    child.on('close', (code, signal) => {
      settle();
      if (limits.signal?.aborted) reject(new ToolAbortedError(binary));
      else if (timedOut) reject(new ToolTimeoutError(binary, timeoutMs));
      else if (code !== 0) reject(new ToolExitError(binary, code, signal, stderr));
      else resolve({ stdout, stderr });
    });
  });
}

export interface FfmpegRunner {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  readonly rlimitExecPath: string;
  /** Epoch ms by which every tool run must have ended. */
  readonly deadline: number;
  /** Budget of one probe. @default PROBE_TIMEOUT_MS */
  readonly probeTimeoutMs?: number;
}

/** A run's budget: its step's own, never past the deadline of the whole run. */
const limitsOf = (
  runner: FfmpegRunner,
  stepMs = Number.POSITIVE_INFINITY,
  signal?: AbortSignal,
): ToolLimits => ({
  timeoutMs: Math.min(stepMs, runner.deadline - Date.now()),
  rlimitExecPath: runner.rlimitExecPath,
  ...(signal ? { signal } : {}),
});

/** Maps tool failures on untrusted input to a failure the client can read. */
async function guarded<T>(run: () => Promise<T>, corruptMessage: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ToolTimeoutError) {
      throw mediaFailure('processing_timeout', 'Processing the file took too long.');
    }
    if (error instanceof ToolExitError) throw mediaFailure('corrupt_media', corruptMessage);
    // ENOENT and the like: a deployment problem, not the file's fault; ToolAbortedError: the
    // caller's own doing.
    throw error;
  }
}

export interface ProbeStream {
  readonly index: number;
  readonly codec_type?: string;
  readonly codec_name?: string;
  readonly profile?: string;
  readonly pix_fmt?: string;
  readonly width?: number;
  readonly height?: number;
  readonly avg_frame_rate?: string;
  readonly r_frame_rate?: string;
  readonly bit_rate?: string;
  readonly channels?: number;
  readonly sample_rate?: string;
  readonly duration?: string;
  readonly nb_frames?: string;
  /** With -count_packets: the packets the demuxer delivers, one per frame. */
  readonly nb_read_packets?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly disposition?: Readonly<Record<string, number>>;
  readonly side_data_list?: readonly { readonly rotation?: number }[];
}

export interface ProbeResult {
  readonly format?: {
    readonly format_name?: string;
    readonly duration?: string;
    readonly bit_rate?: string;
    readonly size?: string;
  };
  readonly streams?: readonly ProbeStream[];
  readonly frames?: readonly { readonly width?: number; readonly height?: number }[];
}

/** ffprobe as JSON, through the same hardened input options, and what it logged at `error`. */
async function runProbe(
  runner: FfmpegRunner,
  demuxer: Demuxer,
  path: string,
  show: readonly string[],
  input: InputOptions = {},
): Promise<{ readonly probed: ProbeResult; readonly errors: string }> {
  const args = [
    ...TOOL_OPTIONS,
    '-v',
    'error',
    '-print_format',
    'json',
    ...show,
    ...hardenedInput(demuxer, path, input),
  ];
  const { stdout, stderr } = await guarded(
    () =>
      runTool(
        runner.ffprobePath,
        args,
        limitsOf(runner, runner.probeTimeoutMs ?? PROBE_TIMEOUT_MS),
      ),
    'The video is damaged or not a video ffmpeg can read.',
  );
  try {
    return { probed: JSON.parse(stdout) as ProbeResult, errors: stderr.trim() };
  } catch {
    throw mediaFailure('corrupt_media', 'The video could not be analysed.');
  }
}

/** ffprobe's format and streams. */
export async function probe(
  runner: FfmpegRunner,
  demuxer: Demuxer,
  path: string,
): Promise<ProbeResult> {
  return (await runProbe(runner, demuxer, path, ['-show_format', '-show_streams'])).probed;
}

/**
 * The streams as the container declares them (codec, size, sample-table frame rate and
 * duration), without opening a single decoder: what decides which streams are read at all.
 */
export async function probeHeaders(runner: FfmpegRunner, path: string): Promise<ProbeResult> {
  return (await runProbe(runner, 'mov', path, ['-show_streams'], { analyzeStreams: false })).probed;
}

/**
 * A GIF as ffmpeg's own demuxer sees it: the logical screen (the size of every decoded frame)
 * and the frames it will deliver, counted without opening the decoder.
 */
export async function probeGif(
  runner: FfmpegRunner,
  path: string,
): Promise<{ readonly width: number; readonly height: number; readonly frames: number }> {
  const { probed } = await runProbe(
    runner,
    'gif',
    path,
    [
      '-count_packets',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,nb_read_packets',
    ],
    { analyzeStreams: false },
  );
  const stream = probed.streams?.[0];
  return {
    width: stream?.width ?? 0,
    height: stream?.height ?? 0,
    frames: Number(stream?.nb_read_packets ?? 0),
  };
}

export interface OutputProbe {
  readonly durationSeconds: number;
  readonly bytes: number;
  /** Size of every keyframe of the first video stream, as the decoder sees it. */
  readonly keyframes: readonly { readonly width: number; readonly height: number }[];
  /** Errors the decoder logged (a picture above maxPixels is one). */
  readonly errors: string;
}

/**
 * Our own MP4 as a player will see it: duration and size from the file, and every keyframe
 * decoded (a new SPS, and so a new picture size, can only start at one), pictures above
 * maxPixels refused by the decoder.
 */
export async function probeOutput(
  runner: FfmpegRunner,
  path: string,
  maxPixels: number,
): Promise<OutputProbe> {
  const { probed, errors } = await runProbe(
    runner,
    'mov',
    path,
    ['-select_streams', 'v:0', '-show_entries', 'format=duration,size:frame=width,height'],
    { maxPixels, decoder: ['-skip_frame', 'nokey'] },
  );
  return {
    durationSeconds: Number(probed.format?.duration ?? 0),
    bytes: Number(probed.format?.size ?? 0),
    keyframes: (probed.frames ?? []).map((frame) => ({
      width: frame.width ?? 0,
      height: frame.height ?? 0,
    })),
    errors,
  };
}

/** One more output file of the same ffmpeg run, with its own options. */
export interface FfmpegOutput {
  readonly args: readonly string[];
  readonly path: string;
}

/**
 * ffmpeg with the hardened input, then the given output options and output file, and any further
 * outputs (each path given as a `file:` URL too); killed if `signal` aborts.
 */
export async function ffmpeg(
  runner: FfmpegRunner,
  input: { readonly demuxer: Demuxer; readonly path: string; readonly options?: InputOptions },
  outputArgs: string[],
  outputPath: string,
  moreOutputs: readonly FfmpegOutput[] = [],
  signal?: AbortSignal,
): Promise<void> {
  const args = [
    ...TOOL_OPTIONS,
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...hardenedInput(input.demuxer, input.path, input.options),
    ...outputArgs,
    fileUrl(outputPath),
    ...moreOutputs.flatMap((output) => [...output.args, fileUrl(output.path)]),
  ];
  await guarded(
    () => runTool(runner.ffmpegPath, args, limitsOf(runner, undefined, signal)),
    'The video is damaged and cannot be converted.',
  );
}
