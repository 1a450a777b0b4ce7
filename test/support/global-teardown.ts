/** Stops the stack the global setup started and removes its temp data dir. */
import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__chirpStack;
  if (stack === undefined) return;
  globalThis.__chirpStack = undefined;
  const exited = await stopProcess(stack.pid, 15_000);
  if (!exited) process.stderr.write(`local stack ${stack.pid} did not stop; killed it\n`);
  if (process.env.CHIRP_KEEP_TEST_DATA === undefined) {
    rmSync(stack.dataDir, { recursive: true, force: true });
  } else {
    process.stderr.write(`local stack data and log kept in ${stack.dataDir}\n`);
  }
}

/** SIGTERM (the stack then stops its children), SIGKILL after the timeout. True if it exited. */
async function stopProcess(pid: number, timeoutMs: number): Promise<boolean> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return true;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(pid, 'SIGKILL');
  return false;
}
