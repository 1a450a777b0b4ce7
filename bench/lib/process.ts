/** Child processes for the figures that need a fresh process or an outside tool. */
import { spawn } from 'node:child_process';

export interface RunOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Stream the child's stderr to ours (progress of nested benchmarks). */
  readonly inheritStderr?: boolean;
}

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunOutput> {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: ['ignore', 'pipe', options.inheritStderr === true ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

/** Runs a command that must succeed; its failure carries the end of its stderr. */
export async function mustRun(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunOutput> {
  const out = await run(command, args, options);
  if (out.code !== 0) {
    throw new Error(`${command} exited ${out.code}: ${out.stderr.slice(-500)}`);
  }
  return out;
}

/** The last line of a child's stdout, parsed as JSON (children print their result last). */
export function lastJsonLine<T>(out: RunOutput): T {
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? 'null') as T;
}
