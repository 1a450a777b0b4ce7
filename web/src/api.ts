/**
 * The API as the app uses it: the generated client (client/), with a fetch that waits out a 429
 * or 503 for its Retry-After (up to 3 times) and reports the wait, so the person sees why.
 */
import { ChirpApiError, createChirpClient, unwrap, type ChirpClient } from '../../client';

export { ChirpApiError, unwrap };
export type { ChirpClient };

const MAX_RETRIES = 3;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function retryAfterFetch(onWait: (seconds: number) => void) {
  return async (request: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(request.clone());
      const retryAfter = response.headers.get('retry-after');
      if (
        (response.status === 429 || response.status === 503) &&
        retryAfter !== null &&
        /^[0-9]+$/.test(retryAfter) &&
        attempt < MAX_RETRIES
      ) {
        const seconds = Number(retryAfter);
        onWait(seconds);
        await sleep(seconds * 1000);
        onWait(0);
        continue;
      }
      return response;
    }
  };
}

export function createApi(
  apiUrl: string,
  token: () => string,
  onWait: (seconds: number) => void,
): ChirpClient {
  return createChirpClient({ baseUrl: apiUrl, token, fetch: retryAfterFetch(onWait) });
}

/** The message to show for a failed call: the API's own words when it gave some. */
export function errorMessage(error: unknown): string {
  if (error instanceof ChirpApiError) return error.message.replace(/^\d+( \S+)?: /, '');
  return error instanceof Error ? error.message : String(error);
}
