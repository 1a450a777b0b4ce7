/**
 * The API reference for `npm start`: openapi.yaml rendered by Redoc (`redocly build-docs`, a
 * static page) at http://127.0.0.1:3002/ (DOCS_PORT), and the document itself at /openapi.yaml.
 * The page is built on the first request and rebuilt when openapi.yaml changes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { Log } from './log';

const ROOT = resolve(__dirname, '..');
export const OPENAPI_DOCUMENT = join(ROOT, 'openapi.yaml');
const REDOCLY = join(ROOT, 'node_modules', '.bin', 'redocly');

export interface ApiDocsOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: Log;
}

export async function startApiDocs(options: ApiDocsOptions): Promise<LocalHttpServer> {
  const workDir = mkdtempSync(join(tmpdir(), 'chirp-api-docs-'));
  const output = join(workDir, 'index.html');
  let built: { mtimeMs: number; page: Promise<Buffer> } | undefined;

  const page = (): Promise<Buffer> => {
    const mtimeMs = statSync(OPENAPI_DOCUMENT).mtimeMs;
    if (built === undefined || built.mtimeMs !== mtimeMs) {
      const building = promisify(execFile)(
        REDOCLY,
        ['build-docs', OPENAPI_DOCUMENT, '--output', output, '--title', 'Chirp API reference'],
        { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off' } },
      ).then(() => readFileSync(output));
      built = { mtimeMs, page: building };
      building.catch(() => {
        built = undefined;
      });
    }
    return built.page;
  };

  const server = await serveHttp(
    options.port,
    async (request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/openapi.yaml') {
        response.writeHead(200, { 'content-type': 'application/yaml; charset=utf-8' });
        response.end(request.method === 'HEAD' ? undefined : readFileSync(OPENAPI_DOCUMENT));
        return;
      }
      if (path !== '/' && path !== '/index.html') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      const html = await page();
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : html);
    },
    (error, response) => {
      options.log(`api docs: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('The API reference could not be built; see the stack output.');
    },
  );
  return {
    url: server.url,
    close: async () => {
      await server.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
