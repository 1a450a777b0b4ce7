/**
 * The soak run's checks in a shorter form: the same code as `npm run soak` (soak/run.ts), for 12 s
 * with 4 clients, on its own private stack (it takes DynamoDB and Redis down, which must not hurt
 * the other test files sharing the global stack). Every fault kind is injected at least once and
 * every acknowledged tweet is read back; see soak/report.ts for the goals.
 *
 * Home timelines are 10 deep here, so 12 s of load fills and cuts them, and the unfollows and
 * deletes (during the run and once more at its end) leave gaps at their bottom, as a full 800 do
 * at production rates: the run that found the timeline bugs, in a form that fails on them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SoakResult } from '../../soak/report';

const ROOT = resolve(__dirname, '..', '..');

function runSoak(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'soak', 'run.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolvePromise({ code, output }));
  });
}

describe('a short soak under faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chirp-soak-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing, duplicates nothing, and answers 5xx only as 503 while DynamoDB is down', async () => {
    const json = join(dir, 'result.json');
    const { code, output } = await runSoak([
      '--duration',
      '12',
      '--clients',
      '4',
      '--users',
      '6',
      '--timeline-depth',
      '10',
      '--json',
      json,
    ]);
    const result = JSON.parse(readFileSync(json, 'utf8')) as SoakResult;
    if (!result.passed) process.stderr.write(output);
    expect(result.failures).toEqual([]);
    expect(code).toBe(0);
    expect(result.tweetsAcknowledged).toBeGreaterThan(0);
    expect(result.lost).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.errorsOutsideWindows).toBe(0);
    expect(result.faults.redis_restarted_empty).toBeGreaterThanOrEqual(1);
    expect(result.faults.dynamodb_restarted).toBeGreaterThanOrEqual(1);
    expect(result.faults.transcoder_killed_mid_run).toBeGreaterThanOrEqual(1);
    expect(result.faults.s3_event_duplicated).toBeGreaterThanOrEqual(1);
    expect(result.faults.stream_batch_duplicated).toBeGreaterThanOrEqual(1);
    expect(result.latency.unfollow?.count).toBeGreaterThanOrEqual(3);
    expect(result.latency.delete?.count).toBeGreaterThanOrEqual(1);
  }, 400_000);
});
