import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { ManagedProcess, ProcessBackedService } from './child-process';
import type { Log } from './log';
import { GiveUp, waitFor } from './ports';

/**
 * A throwaway redis-server: the cache holds only what can be rebuilt from DynamoDB, so it keeps
 * nothing on disk and every start is empty.
 */
export class RedisServer extends ProcessBackedService {
  readonly url: string;

  constructor(
    readonly port: number,
    log: Log,
    command = process.env.REDIS_SERVER_BIN ?? 'redis-server',
  ) {
    super(
      new ManagedProcess(
        {
          name: 'redis',
          command,
          args: [
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
          ],
        },
        log,
      ),
    );
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
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
          return (await client.ping()) === 'PONG';
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
