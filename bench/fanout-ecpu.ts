/**
 * ECPUs per fanout delivery (`npm run bench:ecpu`), estimated from what a real redis-server does
 * for the fanout's own code: ElastiCache Serverless bills a simple command 1 ECPU per KB
 * transferred (at least 1), and a script or other complex command the higher of its KB
 * transferred and its vCPU time relative to a simple GET/SET. This runs the fanout's
 * addToTimelines (lambdas/core/timelines/store.ts) against 2,000 built home timelines, twice
 * (timelines below their depth, and full ones where every add also trims), and reads the server's
 * INFO commandstats (calls, usec per call) and INFO stats (bytes in and out) around each run, with
 * a pipelined GET of a 100-byte value as the vCPU baseline. The follower set's SMEMBERS (once per
 * change, 1 ECPU per KB of ids) is measured too. Results: docs/operations.md, "Cache sizing".
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LIMITS } from '../app/model';
import { followKeys } from '../lambdas/core/follows/store-cache';
import { ulid } from 'ulidx';
import { addToTimelines, finishBuild, startBuild } from '../lambdas/core/timelines/store';
import { cacheOver } from '../lambdas/platform/cache';
import { createCacheClient } from '../lambdas/platform/clients';
import { silentLog } from '../local/log';
import { freePort } from '../local/ports';
import { RedisServer } from '../local/redis-server';

const TIMELINES = 2000;
const FOLLOWERS_IN_SET = 10_000;

interface Sample {
  readonly calls: number;
  /** Time inside the command (commandstats), without reading and parsing it. */
  readonly usecPerCall: number;
  /** The server process's CPU time (user + system) per call: parsing and network I/O included. */
  readonly cpuUsecPerCall: number;
  readonly bytesPerCall: number;
}

/** Per-command figures of `command` over what `run` sends, from the server's own counters. */
async function measure(
  admin: Redis,
  command: string,
  run: () => Promise<unknown>,
): Promise<Sample> {
  await admin.config('RESETSTAT');
  const cpuBefore = cpuSeconds(await admin.info('cpu'));
  const before = netBytes(await admin.info('stats'));
  await run();
  const after = netBytes(await admin.info('stats'));
  const cpuAfter = cpuSeconds(await admin.info('cpu'));
  const stats = await admin.info('commandstats');
  const line = new RegExp(`cmdstat_${command}:calls=(\\d+),usec=(\\d+)`).exec(stats);
  if (line === null) throw new Error(`no ${command} calls recorded`);
  const calls = Number(line[1]);
  return {
    calls,
    usecPerCall: Number(line[2]) / calls,
    cpuUsecPerCall: ((cpuAfter - cpuBefore) * 1e6) / calls,
    // Both directions; the INFO call between the two readings is a few KB against megabytes.
    bytesPerCall: (after - before) / calls,
  };
}

function cpuSeconds(info: string): number {
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return read('used_cpu_user') + read('used_cpu_sys');
}

function netBytes(info: string): number {
  const read = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN);
  return read('total_net_input_bytes') + read('total_net_output_bytes');
}

async function main() {
  const server = new RedisServer(await freePort(), silentLog);
  await server.start();
  const admin = new Redis(server.url);
  const client = createCacheClient(server.url, { commandTimeoutMs: 5000 });
  try {
    const users = Array.from({ length: TIMELINES }, (_, i) => `ecpu-user-${i}`);
    const author = 'ecpu-author';
    // Fresh ULIDs at the given times: the handlers' monotonic factory would give ids made for
    // earlier times the latest time seen, and a timeline built of them would hold one score.
    const tweetAt = (i: number) => `${ulid(Date.UTC(2026, 0, 1) + i * 1000)}-${author}`;
    // Each timeline built as a read builds it (chunked by the store), holding `entries` entries.
    const seed = async (entries: number) => {
      await admin.flushall();
      const cache = { cache: cacheOver(client) };
      const ids = Array.from({ length: entries }, (_, i) => tweetAt(i));
      for (const user of users) {
        const marker = await startBuild(cache, user);
        if (marker === undefined) throw new Error('the timeline build did not start');
        await finishBuild(cache, user, marker, ids, LIMITS.timelineMaxEntries);
      }
    };
    const deliver = (i: number) => () =>
      addToTimelines(
        { cache: cacheOver(client) },
        users,
        [tweetAt(LIMITS.timelineMaxEntries + i)],
        LIMITS.timelineMaxEntries,
      );

    await seed(100);
    await deliver(0)(); // loads the script (EVAL once), warms the connection
    const twice = (first: number) => async () => {
      await deliver(first)();
      await deliver(first + 1)();
    };
    const below = await measure(admin, 'evalsha', twice(1));
    await seed(LIMITS.timelineMaxEntries);
    await deliver(2)();
    const full = await measure(admin, 'evalsha', twice(4));

    await admin.set('ecpu-get', randomBytes(50).toString('hex'));
    const get = await measure(admin, 'get', async () => {
      for (let round = 0; round < 100; round++) {
        const pipeline = admin.pipeline();
        for (let i = 0; i < 500; i++) pipeline.get('ecpu-get');
        await pipeline.exec();
      }
    });

    // One request at a time: what a GET costs the server with its own read and write calls.
    const getAlone = await measure(admin, 'get', async () => {
      for (let i = 0; i < 20_000; i++) await admin.get('ecpu-get');
    });

    const followerKey = followKeys.followers(author);
    const ids = Array.from({ length: FOLLOWERS_IN_SET }, (_, i) => `user-${i}-${'x'.repeat(20)}`);
    for (let i = 0; i < ids.length; i += 1000)
      await admin.sadd(followerKey, ...ids.slice(i, i + 1000));
    const smembers = await measure(admin, 'smembers', () => admin.smembers(followerKey));

    // The vCPU dimension three ways: process CPU per call against a pipelined GET's (the figure
    // sized on), against a GET sent alone (its own read and write calls: a lower bound), and time
    // inside the command against a GET's (an upper bound: a GET's real cost is mostly the
    // reading, parsing and writing this leaves out).
    const ecpu = (sample: Sample) =>
      Math.max(1, sample.bytesPerCall / 1024, sample.cpuUsecPerCall / get.cpuUsecPerCall);
    const ecpuLower = (sample: Sample) =>
      Math.max(1, sample.bytesPerCall / 1024, sample.cpuUsecPerCall / getAlone.cpuUsecPerCall);
    const ecpuUpper = (sample: Sample) =>
      Math.max(1, sample.bytesPerCall / 1024, sample.usecPerCall / get.usecPerCall);
    const rows = {
      get_baseline_pipelined: { ...get, ecpu: ecpu(get) },
      get_baseline_one_at_a_time: getAlone,
      delivery_below_depth: {
        ...below,
        ecpu: ecpu(below),
        ecpuLower: ecpuLower(below),
        ecpuUpper: ecpuUpper(below),
      },
      delivery_full_timeline: {
        ...full,
        ecpu: ecpu(full),
        ecpuLower: ecpuLower(full),
        ecpuUpper: ecpuUpper(full),
      },
      follower_set_smembers_10k: { ...smembers, ecpu: Math.max(1, smembers.bytesPerCall / 1024) },
    };
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
    process.stdout.write(
      `${JSON.stringify({ redisVersion, timelines: TIMELINES, rows }, null, 2)}\n`,
    );
  } finally {
    client.disconnect();
    admin.disconnect();
    await server.stop();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
