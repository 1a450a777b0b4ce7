/**
 * The API reference `npm start` serves: the Redoc page and its script come from the docs server
 * itself, so the page renders in Chromium with every other origin blocked (offline).
 */
import { createHash } from 'node:crypto';
import type { Browser } from 'puppeteer-core';
import { REDOC_BUNDLE_PATH, startApiDocs } from '../../local/api-docs';
import type { LocalHttpServer } from '../../local/http-server';
import { silentLog } from '../../local/log';
import { launchChromium } from './chromium';

describe('the API reference page', () => {
  let docs: LocalHttpServer;
  let browser: Browser;

  beforeAll(async () => {
    docs = await startApiDocs({ port: 0, log: silentLog });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await docs?.close();
  });

  it('links Redoc from the docs server, not a CDN', async () => {
    const html = await (await fetch(`${docs.url}/`)).text();
    expect(html).toContain(`import { hydrate } from "${REDOC_BUNDLE_PATH}"`);
    expect(html).not.toMatch(/cdn\.redoc/);
    const bundle = await fetch(`${docs.url}${REDOC_BUNDLE_PATH}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    // The page preloads the bundle with Subresource Integrity: ours must be those exact bytes.
    const integrity =
      /rel="modulepreload" href="\/redoc\.standalone\.js" integrity="sha384-([^"]+)"/.exec(
        html,
      )?.[1];
    const digest = createHash('sha384').update(Buffer.from(await bundle.arrayBuffer()));
    expect(digest.digest('base64')).toBe(integrity);
  }, 60_000);

  it('renders interactively with every other origin blocked', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    const errors: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(`${docs.url}/`) || url.startsWith('data:')) {
        void request.continue();
      } else {
        blocked.push(url);
        void request.abort();
      }
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      // Offline, the blocked images (Redocly's logo) fail to load; that is not the page failing.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        errors.push(message.text());
      }
    });
    await page.goto(`${docs.url}/`, { waitUntil: 'load' });
    // The bundle ran: React hydrated the server-rendered page, which lists the operations.
    // (Page-side code as strings: the tests' TypeScript has no DOM types.)
    await page.waitForFunction(
      `Object.keys(document.getElementById('redoc') ?? {}).some((key) => key.startsWith('__reactContainer'))`,
      { timeout: 20_000 },
    );
    // Interactive: the menu, rendered by the bundle, opens a tag's operations.
    await page.evaluate(
      `[...document.querySelectorAll('label, li, a, span')].find((e) => e.textContent.trim() === 'tweets')?.click()`,
    );
    await page.waitForFunction(`document.body.innerText.includes('Create a tweet')`, {
      timeout: 20_000,
    });
    const scripts = blocked.filter((url) => /\.js(\?|$)/.test(url));
    expect(scripts).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
