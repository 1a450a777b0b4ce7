import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP endpoint (API emulator, CDN, control) listening on 127.0.0.1. */
export interface LocalHttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `handle` on 127.0.0.1:port (0 = a free port). A handler that throws gets `onError`,
 * which answers the request if it still can.
 */
export async function serveHttp(
  port: number,
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  onError: (error: unknown, response: ServerResponse) => void,
): Promise<LocalHttpServer> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => onError(error, response));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
