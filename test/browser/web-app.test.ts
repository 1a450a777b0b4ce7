/**
 * The web app (web/, served by the local stack's app server) in real Chromium: alice signs in,
 * posts text and an image, sees "processing…" and then the image from the CDN; she chooses her
 * handle, name, bio and an avatar, which shows "processing…" and then its square variant from
 * the CDN; bob signs in, finds alice by her handle, follows her (the page shows the follow state
 * the API reports, also after a reload) and sees her tweet with the image loaded; alice deletes it and it leaves bob's
 * timeline; a GIF plays as a muted looping video; axe-core finds no serious or critical
 * violation; a 40 MiB video goes up in parts (one dropped by the network and retried alone) and
 * plays from the CDN. Each step's screenshot goes to test-output/web/.
 */
import { appendFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import sharp from 'sharp';
import { animatedGif, tempDir, testClip } from '../media/fixtures';
import { appUrl, cdnUrl } from '../support/env';
import { launchChromium } from './chromium';

// Callbacks of page.evaluate/waitForFunction run in the page; this Node program has no DOM types.
interface PageElement {
  readonly textContent: string | null;
  readonly clientWidth: number;
  readonly clientHeight: number;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}
interface PageMedia extends PageElement {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly currentSrc: string;
  readonly readyState: number;
  readonly paused: boolean;
  readonly currentTime: number;
  readonly muted: boolean;
  readonly loop: boolean;
  readonly controls: boolean;
}
declare const document: {
  querySelector(selector: string): PageMedia | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

const SHOTS = resolve(__dirname, '..', '..', 'test-output', 'web');
const AXE = require.resolve('axe-core/axe.min.js');
const run = Date.now().toString(36);
const ALICE = `alice-${run}`;
const BOB = `bob-${run}`;
const ALICE_HANDLE = `Alice_${run}`;

jest.setTimeout(120_000);

describe('the web app, in Chromium', () => {
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const files = tempDir('chirp-web-test-');
  const errors: string[] = [];
  let shot = 0;
  const screenshot = (page: Page, name: string) =>
    page.screenshot({
      path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });

  async function signedIn(user: string): Promise<Page> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 800, height: 900 });
    page.on('pageerror', (error) => errors.push(`${user}: ${String(error)}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${user}: ${message.text()}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(appUrl());
    await page.waitForSelector('#user-id');
    await page.type('#user-id', user);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#compose-text');
    return page;
  }

  async function post(page: Page, text: string, file: string): Promise<string> {
    await page.type('#compose-text', text);
    const input = await page.$('input[type=file]');
    await input?.uploadFile(file);
    await page.waitForSelector('.attachments input[type=text]');
    await page.type('.attachments input[type=text]', `alt for ${text}`);
    await page.click('form.composer button[type=submit]');
    const article = await page.waitForSelector(`article:has(p.text)`, { timeout: 30_000 });
    await page.waitForFunction(
      (wanted) =>
        Array.from(document.querySelectorAll('article p.text')).some(
          (p) => p.textContent === wanted,
        ),
      {},
      text,
    );
    return page.evaluate(
      (wanted) =>
        Array.from(document.querySelectorAll('article'))
          .find((a) => a.querySelector('p.text')?.textContent === wanted)
          ?.getAttribute('data-tweet-id') ?? '',
      text,
      article,
    );
  }

  const imageLoaded = (page: Page, tweetId: string) =>
    page.waitForFunction(
      (id) => {
        const img = document.querySelector(`article[data-tweet-id="${id}"] picture img`);
        return img !== null && img.complete && img.naturalWidth > 0 ? img.currentSrc : false;
      },
      { timeout: 30_000 },
      tweetId,
    );

  async function axeViolations(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await (
        globalThis as unknown as {
          axe: {
            run: () => Promise<{ violations: { id: string; impact: string; help: string }[] }>;
          };
        }
      ).axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help }));
    });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help}`);
  }

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    files.remove();
  });

  it('signs in, posts an image that shows "processing…" and then comes from the CDN', async () => {
    const started = Date.now();
    // Noise, so the transcoder has real work and the "processing…" state lasts a moment.
    const width = 2400;
    const height = 1600;
    const noise = Buffer.alloc(width * height * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const jpeg = files.file('photo.jpg');
    await sharp(noise, { raw: { width, height, channels: 3 } })
      .jpeg()
      .toFile(jpeg);

    alice = await signedIn(ALICE);
    await screenshot(alice, 'alice-signed-in');
    const tweetId = await post(alice, 'hello from the web app', jpeg);
    const pending = await alice.waitForSelector(
      `article[data-tweet-id="${tweetId}"] figure.media-pending`,
      { timeout: 5_000 },
    );
    expect(await pending?.evaluate((figure: PageElement) => figure.textContent)).toContain(
      'processing…',
    );
    // The placeholder has the image's aspect ratio (3:2) before the image exists.
    const ratio = await pending?.evaluate(
      (figure: PageElement) => figure.clientWidth / figure.clientHeight,
    );
    await screenshot(alice, 'alice-processing');
    expect(ratio).toBeCloseTo(1.5, 1);

    const src = (await (await imageLoaded(alice, tweetId)).jsonValue()) as string;
    expect(src.startsWith(cdnUrl())).toBe(true);
    const picture = await alice.$eval(
      `article[data-tweet-id="${tweetId}"] picture`,
      (p: PageElement) => ({
        webp: p.querySelector('source')?.getAttribute('type'),
        srcset: p.querySelector('source')?.getAttribute('srcset') ?? '',
        sizes: p.querySelector('img')?.getAttribute('sizes'),
        alt: p.querySelector('img')?.getAttribute('alt'),
      }),
    );
    expect(picture.webp).toBe('image/webp');
    expect(picture.srcset.split(',').length).toBeGreaterThan(1);
    expect(picture.sizes).toBeTruthy();
    expect(picture.alt).toBe('alt for hello from the web app');
    await screenshot(alice, 'alice-image-ready');

    // alice's first sign-in offers to choose a handle; she sets her profile and an avatar.
    await alice.waitForSelector('.choose-handle');
    await alice.goto(`${appUrl()}/#/settings`);
    await alice.waitForSelector('#profile-handle');
    await alice.type('#profile-handle', ALICE_HANDLE);
    await alice.type('#profile-name', 'Alice Liddell 🐦');
    await alice.type('#profile-bio', 'Curiouser and curiouser.');
    // The same large photo: processing it takes long enough to see "processing…".
    await (await alice.$('#profile-avatar'))?.uploadFile(jpeg);
    await screenshot(alice, 'alice-edits-profile');
    await alice.click('.profile-editor button[type=submit]');
    await alice.waitForSelector('.profile-editor .saved');
    const avatarPending = await alice.waitForSelector('.avatar-field .avatar-pending .processing', {
      timeout: 5_000,
    });
    expect(await avatarPending?.evaluate((label: PageElement) => label.textContent)).toBe(
      'processing…',
    );
    await screenshot(alice, 'alice-avatar-processing');
    const avatarSrc = await alice.waitForFunction(
      () => {
        const img = document.querySelector('.avatar-field picture.avatar img');
        return img !== null && img.complete && img.naturalWidth > 0 ? img.currentSrc : false;
      },
      { timeout: 30_000 },
    );
    expect(((await avatarSrc.jsonValue()) as string).startsWith(cdnUrl())).toBe(true);
    expect(await alice.$eval('nav a.me', (a: PageElement) => a.textContent)).toBe(
      `@${ALICE_HANDLE}`,
    );
    await screenshot(alice, 'alice-profile-saved');

    // bob finds alice by her handle (typed in another case), follows her, and the page shows the
    // API's follow state, also after a reload; then he finds her tweet on his home timeline.
    bob = await signedIn(BOB);
    await bob.type('#find-handle', `@${ALICE_HANDLE.toLowerCase()}`);
    await bob.keyboard.press('Enter');
    await bob.waitForSelector('.profile-card picture.avatar img');
    const card = await bob.$eval('.profile-card', (c: PageElement) => ({
      name: c.querySelector('h1')?.textContent,
      handle: c.querySelector('.handle')?.textContent,
      bio: c.querySelector('.bio')?.textContent,
      followers: c.querySelector('[data-count="followers"]')?.textContent,
    }));
    expect(card).toEqual({
      name: 'Alice Liddell 🐦',
      handle: `@${ALICE_HANDLE}`,
      bio: 'Curiouser and curiouser.',
      followers: '0',
    });
    const follow = await bob.waitForSelector('button[aria-pressed="false"]');
    await follow?.click();
    await bob.waitForSelector('button[aria-pressed="true"]');
    // The state after a reload is the API's, not what this browser remembers of its clicks.
    await bob.evaluate(
      (key) =>
        (
          globalThis as unknown as { localStorage: { removeItem(k: string): void } }
        ).localStorage.removeItem(key),
      `chirp.follows.${BOB}`,
    );
    await bob.reload();
    await bob.waitForSelector('.profile-card');
    expect(
      await bob.$eval('button[aria-pressed]', (b: PageElement) => b.getAttribute('aria-pressed')),
    ).toBe('true');
    expect(await bob.$eval('[data-count="followers"]', (c: PageElement) => c.textContent)).toBe(
      '1',
    );
    await bob.waitForFunction(() => {
      const img = document.querySelector('.profile-card picture.avatar img');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    await screenshot(bob, 'bob-follows-alice-by-handle');
    await bob.goto(`${appUrl()}/#/`);
    await bob.waitForSelector(`article[data-tweet-id="${tweetId}"]`, { timeout: 15_000 });
    await imageLoaded(bob, tweetId);
    // Posted before alice had a profile: her profile change refreshed it, so it shows her now.
    const byline = await bob.$eval(
      `article[data-tweet-id="${tweetId}"] a.author`,
      (a: PageElement) => ({
        text: a.textContent,
        href: a.getAttribute('href'),
      }),
    );
    expect(byline).toEqual({
      text: `Alice Liddell 🐦 @${ALICE_HANDLE}`,
      href: `#/@${ALICE_HANDLE}`,
    });
    await screenshot(bob, 'bob-home-with-image');

    const violations = [...(await axeViolations(bob)), ...(await axeViolations(alice))];
    expect(violations).toEqual([]);

    // alice deletes it from her home timeline; it leaves bob's timeline on his next refresh.
    await alice.goto(`${appUrl()}/#/`);
    await alice.waitForSelector(`article[data-tweet-id="${tweetId}"] button.delete`);
    await alice.click(`article[data-tweet-id="${tweetId}"] button.delete`);
    await alice.waitForFunction(
      (id) => document.querySelector(`article[data-tweet-id="${id}"]`) === null,
      {},
      tweetId,
    );
    await screenshot(alice, 'alice-deleted');
    const deadline = Date.now() + 15_000;
    for (;;) {
      await bob.click('button.refresh');
      await bob.waitForFunction(() =>
        document.querySelector('section.timeline[aria-busy="false"]'),
      );
      const still = await bob.$(`article[data-tweet-id="${tweetId}"]`);
      if (still === null) break;
      if (Date.now() > deadline) throw new Error("the deleted tweet stayed on bob's timeline");
      await new Promise((done) => setTimeout(done, 300));
    }
    await screenshot(bob, 'bob-after-delete');
    expect(errors).toEqual([]);
    process.stdout.write(`web app flow: ${Date.now() - started} ms\n`);
  });

  it('plays a GIF as a muted, looping inline video', async () => {
    const gif = animatedGif(files.file('anim.gif'));
    const tweetId = await post(alice, 'a gif', gif);
    const video = await alice.waitForSelector(
      `article[data-tweet-id="${tweetId}"] video[data-kind="gif"]`,
      { timeout: 30_000 },
    );
    await alice.waitForFunction(
      (element) => {
        const v = element as unknown as PageMedia;
        return v.readyState >= 2 && !v.paused && v.currentTime > 0;
      },
      { timeout: 15_000 },
      video,
    );
    const state = await video?.evaluate((element) => {
      const v = element as unknown as PageMedia;
      return {
        muted: v.muted,
        loop: v.loop,
        controls: v.controls,
        label: v.getAttribute('aria-label'),
      };
    });
    expect(state).toEqual({ muted: true, loop: true, controls: false, label: 'alt for a gif' });
    await screenshot(alice, 'alice-gif-playing');
    expect(errors).toEqual([]);
  });

  it('posts a 40 MiB video in parts, a part dropped by the network retried alone, and plays it', async () => {
    // A 2 s clip padded to 40 MiB with a top-level `free` box (valid MP4, ignored by decoders),
    // so the composer's upload goes in parts while the transcoder's work stays small.
    const clip = testClip(files.file('big.mp4'), { size: '320x240', seconds: 2 });
    const padding = 40 * 1024 * 1024 - statSync(clip).size;
    const box = Buffer.alloc(padding);
    box.writeUInt32BE(padding, 0);
    box.write('free', 4, 'latin1');
    appendFileSync(clip, box);

    const partPuts: string[] = [];
    let dropped = false;
    await alice.setRequestInterception(true);
    const onRequest = (request: HTTPRequest) => {
      const part = new URL(request.url()).searchParams.get('partNumber');
      if (request.method() === 'PUT' && part !== null) {
        partPuts.push(part);
        if (part === '3' && !dropped) {
          dropped = true;
          void request.abort('failed');
          return;
        }
      }
      void request.continue();
    };
    alice.on('request', onRequest);
    try {
      const tweetId = await post(alice, 'a big video', clip);
      const video = await alice.waitForSelector(
        `article[data-tweet-id="${tweetId}"] video[controls]`,
        { timeout: 60_000 },
      );
      await alice.waitForFunction(
        (element) => (element as unknown as PageMedia).readyState >= 1,
        { timeout: 30_000 },
        video,
      );
      await screenshot(alice, 'alice-big-video-ready');
    } finally {
      alice.off('request', onRequest);
      await alice.setRequestInterception(false);
    }
    expect(dropped).toBe(true);
    expect(partPuts.sort()).toEqual(['1', '2', '3', '3', '4', '5']);
    expect(errors.filter((e) => !e.includes('net::ERR_FAILED'))).toEqual([]);
  });
});
