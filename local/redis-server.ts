import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ManagedProcess, ProcessBackedService } from './child-process';
import type { Log } from './log';
import { freePort, GiveUp, waitFor } from './ports';

/** Every hash slot: a single-node cluster owns them all. */
const LAST_SLOT = 16383;
/** Replaced by a free port at each start. */
const BUS_PORT_UNSET = '0';

/**
 * A throwaway redis-server: the cache holds only what can be rebuilt from DynamoDB, so it keeps
 * nothing on disk and every start is empty.
 *
 * It runs in cluster mode, as a single node owning all 16384 slots, like ElastiCache Serverless
 * (cluster mode only, behind one endpoint): a multi-key command across slots fails with CROSSSLOT
 * here as it does in AWS, and SELECT is refused.
 */
export class RedisServer extends ProcessBackedService {
  readonly url: string;
  /** Holds nodes.conf, which cluster mode requires; removed before each start (starts empty). */
  private readonly clusterDir: string;
  /** The command line; its cluster bus port is chosen afresh at each start. */
  private readonly args: string[];

  constructor(
    readonly port: number,
    log: Log,
    command = process.env.REDIS_SERVER_BIN ?? 'redis-server',
    clusterDir = mkdtempSync(join(tmpdir(), `chirp-redis-${port}-`)),
  ) {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      // An explicit SAVE must not drop a dump.rdb into the directory we were started in.
      '--dir',
      tmpdir(),
      '--dbfilename',
      `chirp-redis-${port}.rdb`,
      '--daemonize',
      'no',
      '--maxmemory',
      '256mb',
      // Like an ElastiCache cache: evict least recently used keys; readers rebuild them.
      '--maxmemory-policy',
      'allkeys-lru',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(clusterDir, 'nodes.conf'),
      // CLUSTER SLOTS then names this address, the one clients were given.
      '--cluster-announce-ip',
      '127.0.0.1',
      // The cluster bus otherwise listens on port + 10000, which is past 65535 (redis-server
      // refuses to start) for much of the ephemeral range free ports come from.
      '--cluster-port',
      BUS_PORT_UNSET,
    ];
    super(new ManagedProcess({ name: 'redis', command, args }, log));
    this.args = args;
    this.url = `redis://127.0.0.1:${port}`;
    this.clusterDir = clusterDir;
  }

  async start(): Promise<void> {
    // A fresh node each start (like a replaced cache node): it owns no slots until claimOwnSlots.
    rmSync(join(this.clusterDir, 'nodes.conf'), { force: true });
    this.args[this.args.indexOf('--cluster-port') + 1] = String(await freePort());
    this.process.start();
    await waitFor(
      'redis-server',
      async () => {
        if (!this.process.isRunning) throw new GiveUp('redis-server exited');
        const client = new Redis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          connectTimeout: 500,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return await claimOwnSlots(client);
        } finally {
          client.disconnect();
        }
      },
      10_000,
      50,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${this.process.output()}`);
    });
  }

  /** SIGKILL by default: a cache node that dies loses everything, and that is the fault to test. */
  stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.process.stop(signal);
  }
}

/**
 * Makes a fresh node a one-node cluster that serves every slot; true once the cluster state is ok
 * (until then every keyed command fails with CLUSTERDOWN).
 */
async function claimOwnSlots(client: Redis): Promise<boolean> {
  const owned = (await client.call('CLUSTER', 'SLOTS')) as unknown[];
  if (owned.length === 0) await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', String(LAST_SLOT));
  const info = String(await client.call('CLUSTER', 'INFO'));
  return /^cluster_state:ok\r?$/m.test(info);
}
