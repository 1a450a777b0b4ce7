// Own code: fluent-ffmpeg is archived (2025) and unmaintained; one hardened spawn is all this needs (docs/own-code.md).
/**
 * The only way this code runs ffmpeg and ffprobe. Every run is hardened for untrusted input:
 * - `-nostdin`, and stdin closed;
 * - `-protocol_whitelist file`: no network, no pipes, no nested protocols such as concat: or
 *   subfile:, so a file that smuggles in a playlist cannot make ffmpeg open a connection;
 * - the demuxer is forced from the sniffed format and only `mov` and `gif` are allowed, so HLS,
 *   concat, image2 patterns and every other demuxer that reads further files are unreachable;
 *   QuickTime external data references stay disabled (`-enable_drefs 0`);
 * - bounded probesize/analyzeduration, and a wall-clock timeout that SIGKILLs the process;
 * - inputs and outputs are absolute paths given with the explicit `file:` protocol.
 */
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { mediaFailure } from './failure';
import { TRANSCODER_MALLOC_ENV } from '../../app/model';
import { ANALYZE_DURATION_US, PROBE_SIZE_BYTES } from './settings';

export type Demuxer = 'mov' | 'gif';
const ALLOWED_DEMUXERS: ReadonlySet<string> = new Set<Demuxer>(['mov', 'gif']);

export class ToolTimeoutError extends Error {
  constructor(tool: string, timeoutMs: number) {
    super(`${tool} exceeded its ${timeoutMs} ms budget and was killed`);
    this.name = 'ToolTimeoutError';
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

/** Input options every run gets, ending with `-i file:<path>`. */
export function hardenedInput(demuxer: Demuxer, path: string): string[] {
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
    ...(demuxer === 'mov' ? ['-enable_drefs', '0'] : ['-ignore_loop', '1']),
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
 * (with them ffmpeg takes ~20 % more page faults).
 */
function toolEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(TRANSCODER_MALLOC_ENV)) delete env[name];
  return env;
}

/** Runs a tool with stdin closed, capturing bounded output, killed at the deadline. */
export function runTool(binary: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
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
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new ToolTimeoutError(binary, timeoutMs));
      else if (code !== 0) reject(new ToolExitError(binary, code, signal, stderr));
      else resolve({ stdout, stderr });
    });
  });
}

export interface FfmpegRunner {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  /** Epoch ms by which every tool run must have ended. */
  readonly deadline: number;
}

const remaining = (runner: FfmpegRunner) => runner.deadline - Date.now();

/** Maps tool failures on untrusted input to a failure the client can read. */
async function guarded<T>(run: () => Promise<T>, corruptMessage: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ToolTimeoutError) {
      throw mediaFailure('processing_timeout', 'Processing the file took too long.');
    }
    if (error instanceof ToolExitError) throw mediaFailure('corrupt_media', corruptMessage);
    // ENOENT and the like: a deployment problem, not the file's fault.
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
  readonly tags?: Readonly<Record<string, string>>;
  readonly disposition?: Readonly<Record<string, number>>;
  readonly side_data_list?: readonly { readonly rotation?: number }[];
}

export interface ProbeResult {
  readonly format?: {
    readonly format_name?: string;
    readonly duration?: string;
    readonly bit_rate?: string;
  };
  readonly streams?: readonly ProbeStream[];
}

/** ffprobe as JSON, through the same hardened input options. */
export async function probe(
  runner: FfmpegRunner,
  demuxer: Demuxer,
  path: string,
): Promise<ProbeResult> {
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    ...hardenedInput(demuxer, path),
  ];
  const { stdout } = await guarded(
    () => runTool(runner.ffprobePath, args, remaining(runner)),
    'The video is damaged or not a video ffmpeg can read.',
  );
  try {
    return JSON.parse(stdout) as ProbeResult;
  } catch {
    throw mediaFailure('corrupt_media', 'The video could not be analysed.');
  }
}

/** One more output file of the same ffmpeg run, with its own options. */
export interface FfmpegOutput {
  readonly args: readonly string[];
  readonly path: string;
}

/**
 * ffmpeg with the hardened input, then the given output options and output file, and any further
 * outputs (each path given as a `file:` URL too).
 */
export async function ffmpeg(
  runner: FfmpegRunner,
  input: { readonly demuxer: Demuxer; readonly path: string },
  outputArgs: string[],
  outputPath: string,
  moreOutputs: readonly FfmpegOutput[] = [],
): Promise<void> {
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...hardenedInput(input.demuxer, input.path),
    ...outputArgs,
    fileUrl(outputPath),
    ...moreOutputs.flatMap((output) => [...output.args, fileUrl(output.path)]),
  ];
  await guarded(
    () => runTool(runner.ffmpegPath, args, remaining(runner)),
    'The video is damaged and cannot be converted.',
  );
}
