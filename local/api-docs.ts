/**
 * The API reference for `npm start`: openapi.yaml rendered by Redoc (`redocly build-docs`, a
 * static page) at http://127.0.0.1:3002/ (DOCS_PORT), and the document itself at /openapi.yaml.
 * The page is built on the first request and rebuilt when openapi.yaml changes. Its script, Redoc's
 * standalone bundle, is served from here too (/redoc.standalone.js) instead of Redocly's CDN, so the
 * reference renders offline.
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
/**
 * The bundle the CLI itself embeds with --inlineBundle: the same Redoc version as the page it
 * builds (the page hydrates with it). The `redoc` package's own copy cannot be installed here:
 * redoc@3 depends on @redocly/redoc-opentelemetry, which the registry does not have.
 */
export const REDOC_BUNDLE = join(
  ROOT,
  'node_modules',
  '@redocly',
  'cli',
  'lib',
  'chunks',
  'redoc.standalone.js',
);
export const REDOC_BUNDLE_PATH = '/redoc.standalone.js';
const CDN_BUNDLE =
  /https:\/\/cdn\.redoc(?:ly\.com|\.ly)\/redoc\/v([^/"']+)\/bundles\/redoc\.standalone\.js/g;

/** The page with its CDN script replaced by ours; throws if the versions differ or none is found. */
function withLocalBundle(html: string, bundle: string): string {
  const bundleVersion = /Version: (\S+)/.exec(bundle.slice(0, 500))?.[1];
  const versions = new Set([...html.matchAll(CDN_BUNDLE)].map((match) => match[1]));
  if (versions.size === 0)
    throw new Error('redocly build-docs no longer links the Redoc CDN bundle');
  if (versions.size > 1 || !versions.has(bundleVersion ?? '')) {
    throw new Error(
      `the page wants Redoc ${[...versions].join(', ')}, ${REDOC_BUNDLE} is ${bundleVersion}`,
    );
  }
  return html.replace(CDN_BUNDLE, REDOC_BUNDLE_PATH);
}

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
      ).then(() =>
        Buffer.from(
          withLocalBundle(readFileSync(output, 'utf8'), readFileSync(REDOC_BUNDLE, 'utf8')),
        ),
      );
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
      if (path === REDOC_BUNDLE_PATH) {
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        response.end(request.method === 'HEAD' ? undefined : readFileSync(REDOC_BUNDLE));
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
