/**
 * The cache client (lambdas/shared/redis-client.ts) against real redis-server processes: replies
 * of every shape, pipelines, scripts, deadlines, authentication, and what it does while a server
 * is down or starting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../../local/ports';
import { RedisClient, RedisError, RedisScript } from '../../lambdas/shared/redis-client';

interface Server {
  readonly port: number;
  stop(): Promise<void>;
}

const servers: Server[] = [];
const clients: RedisClient[] = [];

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function startServer(port?: number, extra: string[] = []): Promise<Server> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200 && !(await listening(chosen)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const server = {
    port: chosen,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
  servers.push(server);
  return server;
}

function client(port: number, options: Partial<ConstructorParameters<typeof RedisClient>[0]> = {}) {
  const made = new RedisClient({ host: '127.0.0.1', port, commandTimeoutMs: 1000, ...options });
  clients.push(made);
  return made;
}

afterAll(async () => {
  for (const made of clients) made.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
});

describe('the cache client', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer();
  });

  it('decodes every reply type, UTF-8 text and values larger than one packet', async () => {
    const redis = client(server.port);
    const big = 'ä'.repeat(600_000); // 1.2 MB
    expect(await redis.set('text', 'héllo 🐦')).toBe('OK');
    expect(await redis.get('text')).toBe('héllo 🐦');
    expect(await redis.get('missing')).toBeNull();
    expect(await redis.call('INCRBY', 'counter', 41)).toBe(41);
    await redis.set('big', big);
    expect(await redis.get('big')).toBe(big);
    const script = new RedisScript("return {1, 'two', {3, false}, redis.call('GET', KEYS[1])}", 1);
    expect(await redis.evalScript(script, 'text')).toEqual([1, 'two', [3, null], 'héllo 🐦']);
    await expect(redis.call('NO-SUCH-COMMAND')).rejects.toThrow(RedisError);
    // The error reply did not desynchronise the connection.
    expect(await redis.get('text')).toBe('héllo 🐦');
  });

  it('sends a pipeline in one write and reports each reply, errors in place', async () => {
    const redis = client(server.port);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 5000; i++) pipeline.set(`p:${i}`, `v${i}`);
    pipeline.call('NO-SUCH-COMMAND').get('p:4999').del('p:0');
    const results = await pipeline.exec();
    expect(results).toHaveLength(5003);
    expect(results.slice(0, 5000).every(([error, reply]) => error === null && reply === 'OK')).toBe(
      true,
    );
    expect(results[5000]![0]).toBeInstanceOf(RedisError);
    expect(results.slice(5001)).toEqual([
      [null, 'v4999'],
      [null, 1],
    ]);
  });

  it('loads a script once per connection, and runs it again by source after SCRIPT FLUSH', async () => {
    const redis = client(server.port);
    const script = new RedisScript("return redis.call('INCR', KEYS[1])", 1);
    expect(await redis.evalScript(script, 's:1')).toBe(1);
    expect(await redis.call('SCRIPT', 'EXISTS', script.sha)).toEqual([1]);
    await redis.call('SCRIPT', 'FLUSH');
    expect(await redis.evalScript(script, 's:1')).toBe(2);
    await redis.call('SCRIPT', 'FLUSH');
    const results = await redis.pipeline().evalScript(script, 's:1').get('s:1').exec();
    expect(results).toEqual([
      [null, 3],
      [null, '3'],
    ]);
  });

  it('fails a command at its deadline, and the late reply does not reach the next caller', async () => {
    const redis = client(server.port, { commandTimeoutMs: 100 });
    const busy = new RedisScript(
      "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 300000;" +
        " repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop; return 'late'",
      0,
    );
    await redis.set('after', 'fresh');
    const started = Date.now();
    await expect(redis.evalScript(busy)).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(250);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.get('after')).toBe('fresh');
  });

  it('holds commands while its first connection opens, instead of missing the cache', async () => {
    const redis = client(server.port);
    // Issued at once, before the socket has even connected (a cold start's first request).
    const pending = redis.get('text');
    expect(redis.status).toBe('connecting');
    expect(await pending).toBe('héllo 🐦');
  });

  it('fails at once while the server is down, and reconnects when it is back', async () => {
    const own = await startServer();
    const redis = client(own.port, { retryDelayMs: () => 50 });
    await redis.set('k', 'v');
    await own.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await expect(redis.get('k')).rejects.toThrow(/not connected|closed/);
    expect(Date.now() - started).toBeLessThan(50);
    await startServer(own.port);
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(redis.status).toBe('ready');
    expect(await redis.get('k')).toBeNull(); // a new, empty server
  });

  it('fails fast against a port where nothing listens', async () => {
    const redis = client(await freePort());
    const started = Date.now();
    await expect(redis.get('x')).rejects.toThrow(RedisError);
    expect(Date.now() - started).toBeLessThan(500);
    expect(redis.status).not.toBe('ready');
  });

  it('authenticates with a user and password, and refuses to serve with a wrong one', async () => {
    const secured = await startServer(undefined, ['--requirepass', 's3cret']);
    const good = client(secured.port, { username: 'default', password: 's3cret' });
    expect(await good.set('a', '1')).toBe('OK');
    // A password made per connection (an IAM token), also after a reconnect.
    let made = 0;
    const tokens = client(secured.port, {
      username: 'default',
      password: () => {
        made += 1;
        return 's3cret';
      },
      retryDelayMs: () => 10,
    });
    expect(await tokens.get('a')).toBe('1');
    await good.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    for (let i = 0; i < 100 && (made < 2 || tokens.status !== 'ready'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(made).toBe(2);
    expect(await tokens.get('a')).toBe('1');
    const bad = client(secured.port, {
      username: 'app',
      password: 'wrong',
      retryDelayMs: () => 5000,
    });
    await expect(bad.get('a')).rejects.toThrow(RedisError);
    expect(bad.status).not.toBe('ready');
  });
});
