/**
 * The web app for `npm start` (APP_PORT, default 3003): web/dist, built by Vite first when it is
 * missing or older than its sources; /config.json pointing the app at this stack; and
 * POST /_local/token, which signs a token for the user id the sign-in page picks. That route is
 * the local runtime's stand-in for Cognito's managed login: no Lambda handler has it, and it
 * listens on 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { USER_ID_PATTERN } from '../app/model';
import { serveHttp, type LocalHttpServer } from './http-server';
import { DEFAULT_TOKEN_TTL_SECONDS, mintToken, type SigningKey } from './jwt';
import type { Log } from './log';

const ROOT = resolve(__dirname, '..');
export const WEB_DIR = join(ROOT, 'web');
export const WEB_DIST = join(WEB_DIR, 'dist');
const VITE = join(ROOT, 'node_modules', '.bin', 'vite');
/** What the build reads: a change to any of these makes web/dist stale. */
const WEB_SOURCES = [
  join(WEB_DIR, 'src'),
  join(WEB_DIR, 'index.html'),
  join(WEB_DIR, 'vite.config.mts'),
  join(ROOT, 'client'),
];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestMtime(join(path, name))),
    stat.mtimeMs,
  );
}

/** True when web/dist is missing or older than a source file. */
export function webBuildIsStale(): boolean {
  const built = join(WEB_DIST, 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return WEB_SOURCES.some((source) => newestMtime(source) > builtAt);
}

/** Runs `vite build` for web/ (what `npm run build:web` runs). */
export async function buildWebApp(log: Log): Promise<void> {
  const started = Date.now();
  await promisify(execFile)(VITE, ['build', WEB_DIR, '--logLevel', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
  log(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface WebAppOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly apiUrl: string;
  readonly cdnUrl: string;
  readonly signingKey: SigningKey;
  readonly log: Log;
}

const json = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

async function readBody(request: import('node:http').IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebApp(options: WebAppOptions): Promise<LocalHttpServer> {
  if (webBuildIsStale()) {
    options.log('web app: building web/dist (missing or older than its sources)');
    await buildWebApp(options.log);
  }
  const config = JSON.stringify({
    apiUrl: options.apiUrl,
    cdnUrl: options.cdnUrl,
    auth: { mode: 'local', tokenUrl: '_local/token' },
  });

  const tokenAnswer = async (request: import('node:http').IncomingMessage) => {
    let userId: unknown;
    try {
      userId = (JSON.parse(await readBody(request)) as { user_id?: unknown }).user_id;
    } catch {
      return json(400, {
        error: { code: 'invalid_request', message: 'send {"user_id": "..."}' },
      });
    }
    if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
      return json(400, {
        error: {
          code: 'invalid_request',
          message: 'A user id is 1 to 128 of A-Z a-z 0-9 . _ -',
        },
      });
    }
    return json(200, {
      token: mintToken(options.signingKey, userId),
      expires_in: DEFAULT_TOKEN_TTL_SECONDS,
    });
  };

  return serveHttp(
    options.port,
    async (request, response) => {
      const path = decodeURIComponent((request.url ?? '/').split('?')[0] ?? '/');
      if (path === '/_local/token') {
        const answer =
          request.method === 'POST'
            ? await tokenAnswer(request)
            : json(405, { error: { code: 'method_not_allowed', message: 'POST only' } });
        response.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/config.json') {
        response.writeHead(200, json(200, null).headers).end(config);
        return;
      }
      const file = normalize(join(WEB_DIST, path === '/' ? 'index.html' : path));
      if (!file.startsWith(WEB_DIST + sep) || !existsSync(file) || statSync(file).isDirectory()) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        // Vite names assets by content hash; index.html must be re-read to find new ones.
        'cache-control': file.includes(`${sep}assets${sep}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : readFileSync(file));
    },
    (error, response) => {
      options.log(`web app: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('Internal error');
    },
  );
}
