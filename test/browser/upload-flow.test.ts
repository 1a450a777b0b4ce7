/**
 * A web app on another origin, in real Chromium (Debian's `chromium`, driven by puppeteer-core),
 * against the local stack with its default configuration: the generated client, bundled for the
 * browser, does init, the PUT of a canvas JPEG to the presigned URL (XMLHttpRequest, with upload
 * progress), creates the tweet, polls until the media is ready, shows the CDN variant in an
 * <img crossorigin> (and reads its pixels, which a CORS failure would forbid), and reads the home
 * timeline. Every API response the page gets is checked against openapi.yaml; the console must
 * stay free of errors.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer-core';
import { launchChromium } from './chromium';
import { expectDeclared } from '../support/contract';
import { newUser } from '../support/api-client';
import { apiUrl, cdnUrl } from '../support/env';
import type { FlowResult, PartsResult } from './page/result';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Chirp browser client</title>
<link rel="icon" href="data:,">
<script src="/chirp-client.js"></script></head>
<body><canvas id="draw" width="320" height="240"></canvas><div id="media"></div></body></html>`;

describe('a web page on another origin, in Chromium', () => {
  let browser: Browser;
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [resolve(__dirname, 'page', 'flow.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
    });
    const script = bundle.outputFiles[0]?.contents ?? new Uint8Array();
    site = createServer((request, response) => {
      if (request.url === '/chirp-client.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end(script);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
    });
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => site?.close(done));
  });

  it('uploads, tweets, shows the CDN variant and reads the timeline, with no configuration', async () => {
    const api = apiUrl();
    // Another origin: same host, another port.
    expect(new URL(siteUrl).origin).not.toBe(new URL(api).origin);
    const user = newUser('browser');
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('requestfailed', (request) =>
      consoleErrors.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
    );
    const checks: Promise<void>[] = [];
    const seen: string[] = [];
    page.on('response', (response) => {
      const request = response.request();
      const url = new URL(response.url());
      if (url.origin !== new URL(api).origin) return;
      seen.push(`${request.method()} ${url.pathname} ${response.status()}`);
      // Preflights are API Gateway's CORS answers, not operations (openapi.yaml, info).
      if (request.method() === 'OPTIONS') return;
      checks.push(
        response.text().then((body) =>
          expectDeclared({
            method: request.method(),
            path: url.pathname + url.search,
            status: response.status(),
            headers: response.headers(),
            body,
          }),
        ),
      );
    });

    await page.goto(siteUrl);
    const result = await page.evaluate(
      (base, token, text) =>
        (
          globalThis as unknown as {
            runFlow: (base: string, token: string, text: string) => Promise<FlowResult>;
          }
        ).runFlow(base, token, text),
      api,
      user.token,
      'from a browser',
    );
    await Promise.all(checks);

    expect(result.status).toBe('ready');
    expect(result.variantUrl.startsWith(cdnUrl())).toBe(true);
    expect(result.imageSize[0]).toBeGreaterThan(0);
    expect(result.pixel).toHaveLength(4);
    expect(result.timelineIds).toContain(result.tweetId);
    // XMLHttpRequest reported the PUT's progress, ending at the whole JPEG.
    const last = result.progress.at(-1);
    expect(last !== undefined && last.loaded === last.total && last.total > 0).toBe(true);
    // The browser preflighted the JSON calls (authorization, content-type) and they passed.
    expect(seen).toEqual(
      expect.arrayContaining([
        'OPTIONS /v1/media/init 204',
        'POST /v1/media/init 201',
        'POST /v1/tweets 201',
      ]),
    );
    expect(consoleErrors).toEqual([]);
    process.stdout.write(`browser flow: ${Math.round(result.ms)} ms in the page\n`);
  });

  it('uploads 40 MiB in parts with XMLHttpRequest, a part dropped by the network retried alone', async () => {
    const user = newUser('browser-parts');
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    const partPuts: string[] = [];
    let dropped = false;
    // The browser's own network stack fails the first PUT of part 2 (net::ERR_FAILED), as a
    // dropped connection would; everything else goes to the S3 emulator unchanged.
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = new URL(request.url());
      const part = url.searchParams.get('partNumber');
      if (request.method() === 'PUT' && part !== null) {
        partPuts.push(part);
        if (part === '2' && !dropped) {
          dropped = true;
          void request.abort('failed');
          return;
        }
      }
      void request.continue();
    });
    const statuses: string[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.searchParams.has('partNumber') && response.request().method() === 'PUT') {
        statuses.push(`${url.searchParams.get('partNumber')} ${response.status()}`);
      }
    });
    await page.goto(siteUrl);
    const result = await page.evaluate(
      (base, token) =>
        (
          globalThis as unknown as {
            runPartsUpload: (base: string, token: string) => Promise<PartsResult>;
          }
        ).runPartsUpload(base, token),
      apiUrl(),
      user.token,
    );
    expect(result.method).toBe('PARTS');
    // Completed: pending until the transcoder claims it, or already further.
    expect(['pending_upload', 'processing', 'failed']).toContain(result.status);
    expect(partPuts.sort()).toEqual(['1', '2', '2', '3', '4', '5']);
    expect(statuses.sort()).toEqual(['1 200', '2 200', '3 200', '4 200', '5 200']);
    const last = result.progress.at(-1);
    expect(last).toEqual({ loaded: 40 * 1024 * 1024, total: 40 * 1024 * 1024 });
    expect(consoleErrors).toEqual([]);
    process.stdout.write(`browser: 40 MiB in parts in ${Math.round(result.ms)} ms\n`);
  });
});
