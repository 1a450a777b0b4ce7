// Own code: restartable service processes on Node built-ins, for fault injection (docs/own-code.md).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Log } from './log';

/** Every child any ManagedProcess started and has not yet seen exit, so a dying parent can reap them. */
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ProcessSpec {
  /** Short name used in log lines, e.g. `redis`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
}

/**
 * A long-running child (java, redis-server) that can be stopped and started again with the same
 * command line, keeping the last lines of its output for error messages.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly recentOutput: string[] = [];

  constructor(
    readonly spec: ProcessSpec,
    private readonly log: Log,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** The command line, for people who want to run it by hand. */
  get commandLine(): string {
    return [this.spec.command, ...this.spec.args]
      .map((part) => (/^[\w./=:@-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`))
      .join(' ');
  }

  start(): void {
    if (this.child !== undefined) return;
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(child);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.recentOutput.push(line);
        if (this.recentOutput.length > 40) this.recentOutput.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (this.child === child) this.child = undefined;
        this.log(`${this.spec.name} exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      child.once('error', (error) => {
        running.delete(child);
        if (this.child === child) this.child = undefined;
        this.recentOutput.push(`spawn error: ${error.message}`);
        resolve();
      });
    });
  }

  /** Stops the child: SIGTERM, then SIGKILL if it lingers. Resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last lines the child printed, for diagnostics when it fails to come up. */
  output(): string {
    return this.recentOutput.join('\n');
  }
}

/** A service backed by one ManagedProcess: exposes what fault injection and diagnostics need. */
export abstract class ProcessBackedService {
  protected constructor(protected readonly process: ManagedProcess) {}

  get pid(): number | undefined {
    return this.process.pid;
  }

  get commandLine(): string {
    return this.process.commandLine;
  }

  get isRunning(): boolean {
    return this.process.isRunning;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}
