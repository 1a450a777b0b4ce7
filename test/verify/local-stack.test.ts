/**
 * `npm run verify -- --local` against the test run's local stack (the global setup starts it as
 * `npm start` runs): the CLI passes with exit code 0 on a working stack, and a broken deployment
 * (the CDN URL pointing nowhere) fails it, with the failed checks named and everything it made
 * cleaned up all the same.
 */
import { expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createChirpClient } from '../../client';
import { localTarget } from '../../scripts/verify/targets';
import { verifyDeployment } from '../../scripts/verify/verifier';
import { apiUrl, appUrl, cdnUrl, mintToken } from '../support/env';

const ROOT = resolve(__dirname, '..', '..');
const CLI = resolve(ROOT, 'scripts', 'verify', 'cli.ts');

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ code, output }));
  });
}

/** A port nothing listens on: a CDN URL that points nowhere. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

it('passes against the running local stack, with exit code 0 and a timing summary', async () => {
  const { code, output } = await runCli([
    '--local',
    '--app-url',
    appUrl(),
    '--processing-timeout',
    '120',
  ]);
  expect({ code, output }).toEqual({
    code: 0,
    output: expect.stringMatching(/PASSED: all \d+ checks held/),
  });
  // It ran against this stack's API and CDN (from the web app's config), with its issuer's tokens.
  expect(output).toContain(`API         ${apiUrl()}`);
  expect(output).toContain(`CDN         ${cdnUrl()}`);
  expect(output).toContain(`local token issuer ${appUrl()}/_local/token`);
  for (const line of [
    /ok {3}an unauthenticated call is refused: GET \/v1\/timeline without a token: 401/,
    /ok {3}image processed \(transcoder\): ready, 1200x800/,
    /ok {3}video processed \(transcoder\): ready, 320x180/,
    /ok {3}CDN serves the video's video variant \(video\/mp4\): 200 video\/mp4/,
    /ok {3}CDN does not serve the image's original: .*\/uploads\/\w+: 403/,
    /ok {3}delete tweet \S+: DELETE 204, then GET 404/,
    /upload image \(init \+ PUT\) +\d/,
    /processing video \(PUT done -> ready\) +\d/,
    /fanout visibility .* +\d/,
  ]) {
    expect(output).toMatch(line);
  }
  expect(output).not.toMatch(/FAIL/);
}, 240_000);

it('fails a deployment whose CDN URL points nowhere, names the failed checks, and still cleans up', async () => {
  const wrongCdn = `http://127.0.0.1:${await closedPort()}`;
  const lines: string[] = [];
  const runId = `broken-${Date.now().toString(36)}`;
  const report = await verifyDeployment(
    await localTarget({ appUrl: appUrl(), cdnUrl: wrongCdn }, runId),
    runId,
    { print: (line) => lines.push(line), processingTimeoutMs: 120_000 },
  );

  expect(report.ok).toBe(false);
  expect(lines.at(-1)).toMatch(/^FAILED: \d+ of \d+ checks failed/);
  const failed = report.checks.filter((check) => !check.ok).map((check) => check.name);
  // Every variant is served from the stack's real CDN, not the configured one: each fails, and so
  // does the originals check, which cannot reach the configured CDN at all.
  expect(failed).toEqual(
    expect.arrayContaining([
      "CDN does not serve the image's original",
      "CDN does not serve the video's original",
      "CDN serves the video's video variant (video/mp4)",
    ]),
  );
  expect(failed.every((name) => name.startsWith('CDN '))).toBe(true);
  const variantFailure = report.checks.find((c) => c.name.startsWith("CDN serves the image's"));
  expect(variantFailure?.detail).toContain(`is not on the stack's CDN ${wrongCdn}`);

  // What it made is gone: the cleanup held, and the tweets answer 404 to their author.
  expect(report.cleanup.length).toBeGreaterThan(0);
  expect(report.cleanup.filter((step) => !step.ok)).toEqual([]);
  expect(report.created.tweetIds).toHaveLength(2);
  const author = report.created.users[0]!;
  const api = createChirpClient({ baseUrl: apiUrl(), token: mintToken(author.userId) });
  for (const tweetId of report.created.tweetIds) {
    const { response } = await api.GET('/v1/tweets/{tweet_id}', {
      params: { path: { tweet_id: tweetId } },
    });
    expect(response.status).toBe(404);
  }
  // The deleted tweets left the follower's home timeline too.
  const follower = report.created.users[1]!;
  const timeline = await createChirpClient({
    baseUrl: apiUrl(),
    token: mintToken(follower.userId),
  }).GET('/v1/timeline', { params: { query: {} } });
  expect(timeline.data?.tweets).toEqual([]);
}, 240_000);

it('exits 2 with the usage for a missing target or an unreadable outputs file, before making anything', async () => {
  const none = await runCli([]);
  expect(none.code).toBe(2);
  expect(none.output).toContain('give either --outputs FILE or --local');
  const missing = await runCli(['--outputs', '/nonexistent/cdk-outputs.json']);
  expect(missing.code).toBe(2);
  expect(missing.output).toMatch(/verify: ENOENT.*cdk-outputs\.json/);
  expect(missing.output).not.toContain('Verifying');
}, 60_000);
