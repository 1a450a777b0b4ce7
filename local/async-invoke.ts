// Own code: Lambda's async retries in ~30 lines; no library emulates them in-process (docs/own-code.md).
import { randomUUID } from 'node:crypto';
import { sleep } from './ports';

/**
 * Lambda's asynchronous invocation: on a function error the event is retried twice with growing
 * delays (AWS waits about 1 and 2 minutes; locally 1 s and 2 s), then it goes to the failure
 * destination (locally: the log). Every attempt gets the same request id, as on Lambda (a handler
 * can tell its own retry from another delivery of the event).
 */
export async function invokeAsync(
  invoke: (requestId: string) => Promise<unknown>,
  options: { retries?: number; baseDelayMs?: number; describe: string; log: (m: string) => void },
): Promise<boolean> {
  const retries = options.retries ?? 2;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const requestId = randomUUID();
  for (let attempt = 0; ; attempt++) {
    try {
      await invoke(requestId);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= retries) {
        options.log(
          `${options.describe}: failed after ${attempt + 1} attempts (${message}); dropped to the failure destination`,
        );
        return false;
      }
      options.log(`${options.describe}: attempt ${attempt + 1} failed (${message}); retrying`);
      await sleep(baseDelayMs * 2 ** attempt);
    }
  }
}
