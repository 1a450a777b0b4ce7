// Own code: free ports and polling on Node built-ins, a few lines (docs/own-code.md).
import { createServer } from 'node:net';

/** Asks the OS for a free TCP port on 127.0.0.1 (for children that need a port on their command line). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not determine a free port'));
      });
    });
  });
}

/** Thrown by a `waitFor` probe to stop waiting at once (e.g. the process being waited on died). */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it resolves true, or throws after `timeoutMs`. A probe that throws counts
 * as "not yet", except for GiveUp, which ends the wait.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await probe().catch((error: unknown) => {
      if (error instanceof GiveUp) throw error;
      return false;
    });
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
