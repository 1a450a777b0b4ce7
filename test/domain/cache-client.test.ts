/**
 * The cache client as every function builds it (createCacheClient: an ioredis Cluster), against
 * real redis-server processes: scripts, deadlines, a cold start's first connection, outages, IAM
 * tokens across a reconnect after the first token expired, and a real TLS handshake with a
 * throwaway CA, including the server-name check.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { Redis } from 'ioredis';
import { awaitReady, cacheOver, tryCommand, tryPipeline } from '../../lambdas/platform/cache';
import { TIMELINE_ADD } from '../../lambdas/core/timelines/store';
import { timelineKeys } from '../../lambdas/core/timelines/store-keys';
import { createCacheClient, type CacheClient } from '../../lambdas/platform/clients';
import { elastiCacheIamToken } from '../../lambdas/platform/elasticache-iam';
import { ManagedProcess } from '../../local/child-process';
import { silentLog } from '../../local/log';
import { freePort, waitFor } from '../../local/ports';
import { RedisServer } from '../../local/redis-server';

const clients: CacheClient[] = [];
const admins: Redis[] = [];
const servers: { stop(signal?: NodeJS.Signals): Promise<void> }[] = [];

afterAll(async () => {
  for (const client of clients) client.disconnect();
  for (const admin of admins) admin.disconnect();
  await Promise.all(servers.map((server) => server.stop('SIGKILL')));
});

function client(url: string, options: Parameters<typeof createCacheClient>[1] = {}) {
  const made = createCacheClient(url, { commandTimeoutMs: 1000, ...options });
  clients.push(made);
  return made;
}

async function server(): Promise<RedisServer> {
  const started = new RedisServer(await freePort(), silentLog);
  servers.push(started);
  await started.start();
  return started;
}

function admin(port: number): Redis {
  const made = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  made.on('error', () => undefined);
  admins.push(made);
  return made;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  await waitFor(what, check, timeoutMs, 50);
}

describe('the cache client', () => {
  it('holds commands while its first connection opens, so a cold start does not miss', async () => {
    const { url, port } = await server();
    await admin(port).set('warm', 'yes');
    const cold = client(url);
    expect(cold.status).not.toBe('ready');
    expect(await tryCommand(cold, 'cold start', (redis) => redis.get('warm'))).toBe('yes');
  });

  it('runs the domain scripts by SHA, and again by source after SCRIPT FLUSH', async () => {
    const { url, port } = await server();
    const redis = client(url);
    await awaitReady(redis, 5000);
    const key = timelineKeys.homeTimeline('reader');
    await redis.zadd(key, '-inf', 'built');
    const add = () =>
      cacheOver(redis).batch('add', (batch) => batch.run(TIMELINE_ADD, [key], [5, 1, 'a']));
    expect(await add()).toEqual([1]);
    await admin(port).script('FLUSH');
    expect(await add()).toEqual([1]);
    expect(await redis.zrange(timelineKeys.timelineChunk('reader', 1), 0, -1)).toEqual(['a']);
  });

  it('fails a command at its deadline', async () => {
    const { url } = await server();
    const redis = client(url, { commandTimeoutMs: 100 });
    await awaitReady(redis, 5000);
    const busy =
      "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 400000;" +
      " repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop; return 'late'";
    const started = Date.now();
    await expect(redis.eval(busy, 0)).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(350);
  });

  it('fails at once while the server is down, and reconnects when it is back', async () => {
    const started = await server();
    const redis = client(started.url);
    await awaitReady(redis, 5000);
    await started.stop('SIGKILL');
    await until('client notices', () => Promise.resolve(redis.status !== 'ready'));
    const before = Date.now();
    expect(await tryCommand(redis, 'down', (r) => r.get('k'))).toBeUndefined();
    expect(await tryPipeline(redis, 'down', (p) => p.get('k'))).toBeUndefined();
    expect(Date.now() - before).toBeLessThan(50);
    await started.start();
    await until(
      'reconnected',
      async () => (await tryCommand(redis, 'up', (r) => r.ping())) === 'PONG',
    );
  });

  it('fails fast against a port where nothing listens', async () => {
    const dead = client(`redis://127.0.0.1:${await freePort()}`);
    const before = Date.now();
    expect(await tryCommand(dead, 'dead', (redis) => redis.get('k'))).toBeUndefined();
    expect(await tryPipeline(dead, 'dead', (pipeline) => pipeline.get('k'))).toBeUndefined();
    expect(Date.now() - before).toBeLessThan(1000);
  });
});

describe('IAM auth', () => {
  const saved = { ...process.env };
  afterEach(() => {
    jest.useRealTimers();
    process.env = { ...saved };
  });

  it('signs a fresh token for each new connection: a reconnect after the first token expired succeeds', async () => {
    const { url, port } = await server();
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'ASIATEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_SESSION_TOKEN: 'test-session',
      AWS_REGION: 'eu-west-1',
    });
    // Only the clock is faked (tokens carry their signing time); timers and I/O stay real.
    const t0 = new Date('2026-12-04T10:00:00Z');
    jest.useFakeTimers({
      now: t0,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    const iam = { userId: 'chirp-app', cacheName: 'chirp-cache' };
    // The server accepts exactly the token valid now, as ElastiCache accepts only unexpired ones.
    const acceptOnly = async (token: string) => {
      await admin(port).call('ACL', 'SETUSER', iam.userId, 'on', 'resetpass', `>${token}`);
      await admin(port).call('ACL', 'SETUSER', iam.userId, '~*', '&*', '+@all');
    };
    const firstToken = await elastiCacheIamToken(iam);
    await acceptOnly(firstToken);
    const redis = client(url, { iam });
    await awaitReady(redis, 5000);
    expect(redis.status).toBe('ready');
    await redis.set('k', 'v');

    // 16 minutes on, the first token no longer opens connections.
    jest.setSystemTime(new Date(t0.getTime() + 16 * 60_000));
    const laterToken = await elastiCacheIamToken(iam);
    expect(laterToken).not.toBe(firstToken);
    await acceptOnly(laterToken);
    const probe = admin(port);
    await expect(probe.call('AUTH', iam.userId, firstToken)).rejects.toThrow(/WRONGPASS/);

    // The connection drops (a failover, an idle timeout): the client must reconnect on its own.
    expect(Number(await admin(port).call('CLIENT', 'KILL', 'USER', iam.userId))).toBeGreaterThan(0);
    await until('reconnected with a fresh token', async () => {
      return (await tryCommand(redis, 'after expiry', (r) => r.get('k'))) === 'v';
    });
  });
});

describe('TLS', () => {
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chirp-tls-'));
    const openssl = (...args: string[]) =>
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=Chirp test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    port = await freePort();
    // A one-node cluster that speaks only TLS and names itself `localhost` in CLUSTER SLOTS, as
    // the serverless endpoint names itself by its DNS name.
    const process = new ManagedProcess(
      {
        name: 'redis-tls',
        command: 'redis-server',
        args: [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1 -::1',
          '--tls-cert-file',
          join(dir, 'server.crt'),
          '--tls-key-file',
          join(dir, 'server.key'),
          '--tls-ca-cert-file',
          join(dir, 'ca.crt'),
          '--tls-auth-clients',
          'no',
          '--tls-cluster',
          'yes',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-port',
          String(await freePort()),
          '--cluster-announce-hostname',
          'localhost',
          '--cluster-preferred-endpoint-type',
          'hostname',
        ],
      },
      silentLog,
    );
    servers.push(process);
    process.start();
    const setup = new Redis({
      host: 'localhost',
      port,
      tls: { ca: readFileSync(join(dir, 'ca.crt')) },
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    setup.on('error', () => undefined);
    admins.push(setup);
    await until('TLS redis-server', async () => {
      await setup.connect().catch(() => undefined);
      return setup.status === 'ready';
    });
    await setup.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await until('cluster ok', async () =>
      /cluster_state:ok/.test(String(await setup.call('CLUSTER', 'INFO'))),
    );
  });

  /**
   * The handshake as Node makes it for the client (the client itself only reports that the
   * connection closed: ioredis's Cluster drops the cause).
   */
  const handshake = (host: string, ca?: Buffer) =>
    new Promise<string>((resolve) => {
      const socket = connectTls({ host, port, ...(ca ? { ca } : {}) });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('ok');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });

  /** The client tried and failed, and serves nothing. */
  async function refused(redis: CacheClient) {
    let failures = 0;
    redis.on('error', () => failures++);
    await until('failed attempts', () => Promise.resolve(failures >= 2));
    expect(redis.status).not.toBe('ready');
    expect(await tryCommand(redis, 'refused', (r) => r.get('tls'))).toBeUndefined();
  }

  it('completes a real handshake with the server named in the URL and serves the cache', async () => {
    const redis = client(`rediss://localhost:${port}`, {
      tls: { ca: readFileSync(join(dir, 'ca.crt')) },
    });
    await awaitReady(redis, 5000);
    expect(redis.status).toBe('ready');
    await redis.set('tls', 'ok');
    expect(await tryCommand(redis, 'tls', (r) => r.get('tls'))).toBe('ok');
  });

  it('refuses a certificate that does not name the server', async () => {
    const ca = readFileSync(join(dir, 'ca.crt'));
    expect(await handshake('localhost', ca)).toBe('ok');
    expect(await handshake('127.0.0.1', ca)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // The same server and CA as the test above; only the name in the URL differs.
    await refused(client(`rediss://127.0.0.1:${port}`, { tls: { ca } }));
  });

  it('refuses a certificate from a CA it does not trust', async () => {
    expect(await handshake('localhost')).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    await refused(client(`rediss://localhost:${port}`));
  });
});
