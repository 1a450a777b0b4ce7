/**
 * A small Redis client for one endpoint: RESP2 over one TCP or TLS connection, pipelining, Lua
 * scripts by SHA, per-command deadlines, background reconnects.
 *
 * Why not ioredis: loading ioredis (its ~450 generated command methods, twice, plus cluster
 * machinery) took ~75 ms of every cold start on this project's benchmark, more than Node itself
 * takes to boot, and Chirp needs a dozen commands against a single endpoint. ElastiCache
 * Serverless is one endpoint that owns every slot (the local redis-server is a one-node cluster
 * that does too), so no topology discovery is needed; the server still refuses cross-slot
 * commands, so keys read together must share a hash tag (cache-keys.ts). A MOVED or ASK reply
 * (a sharded cluster behind the URL) is an error like any other, which callers treat as a miss.
 *
 * Failure behaviour is what a cache needs: every command carries a deadline; nothing queues
 * while the connection is down (commands fail at once); only the very first connection, still
 * being opened, holds commands until their deadline, so a cold start does not miss the cache.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export type RedisArg = string | number;
/** A decoded reply: bulk and simple strings as UTF-8 strings, integers as numbers. */
export type RedisReply = string | number | null | RedisReply[];

/** An error reply from the server (`-ERR ...`), or a client-side failure of one command. */
export class RedisError extends Error {
  override readonly name = 'RedisError';
}

export interface RedisClientOptions {
  readonly host: string;
  readonly port: number;
  /** Use TLS, verifying the server's name. @default false */
  readonly tls?: boolean;
  readonly username?: string;
  /**
   * The password, or a function that makes one for each new connection (an IAM token, valid for
   * new connections for 15 minutes).
   */
  readonly password?: string | (() => string);
  /** Deadline of each command (and of a whole pipeline) from when it is issued. @default 150 */
  readonly commandTimeoutMs?: number;
  /** How long one connection attempt may take. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** Delay before reconnect attempt `n` (1-based). @default 100 ms x n, at most 2 s */
  readonly retryDelayMs?: (attempt: number) => number;
}

/**
 * `connecting` (first connection), `ready`, `reconnecting` (lost, or never made; retrying in the
 * background), `end` (disconnected for good).
 */
export type RedisStatus = 'connecting' | 'ready' | 'reconnecting' | 'end';

/** A Lua script run by SHA; the client loads it once per connection. */
export class RedisScript {
  private digest: string | undefined;
  constructor(
    readonly lua: string,
    readonly numberOfKeys: number,
  ) {}

  /** Computed on first use: loading a handler that never runs a script hashes nothing. */
  get sha(): string {
    return (this.digest ??= createHash('sha1').update(this.lua).digest('hex'));
  }
}

/** One queued request: `count` replies expected, settled together. */
interface Pending {
  readonly count: number;
  readonly replies: (RedisReply | RedisError)[];
  readonly deadline: number;
  /** Settles the caller; undefined once settled (timed out, or the connection failed). */
  settle: ((replies: (RedisReply | RedisError)[] | Error) => void) | undefined;
}

const INCOMPLETE = Symbol('incomplete');
type Parsed = RedisReply | RedisError | typeof INCOMPLETE;

const CRLF = '\r\n';

function encodeCommand(args: readonly RedisArg[]): string {
  let out = `*${args.length}${CRLF}`;
  for (const arg of args) {
    const text = typeof arg === 'string' ? arg : String(arg);
    out += `$${Buffer.byteLength(text)}${CRLF}${text}${CRLF}`;
  }
  return out;
}

/** Incremental RESP2 reader: feed chunks, take whole replies. */
class ReplyReader {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;

  push(chunk: Buffer): void {
    this.buffer =
      this.offset >= this.buffer.length
        ? chunk
        : Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    this.offset = 0;
  }

  /** The next whole reply, or INCOMPLETE (then nothing was consumed). */
  next(): Parsed {
    const start = this.offset;
    const reply = this.parse();
    if (reply === INCOMPLETE) this.offset = start;
    return reply;
  }

  private line(): string | typeof INCOMPLETE {
    const end = this.buffer.indexOf(13, this.offset);
    if (end === -1 || end + 1 >= this.buffer.length) return INCOMPLETE;
    const text = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 2;
    return text;
  }

  private parse(): Parsed {
    if (this.offset >= this.buffer.length) return INCOMPLETE;
    const type = this.buffer[this.offset++];
    const line = this.line();
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 0x2b: // '+'
        return line;
      case 0x2d: // '-'
        return new RedisError(line);
      case 0x3a: // ':'
        return Number(line);
      case 0x24: {
        // '$'
        const length = Number(line);
        if (length < 0) return null;
        if (this.offset + length + 2 > this.buffer.length) return INCOMPLETE;
        const text = this.buffer.toString('utf8', this.offset, this.offset + length);
        this.offset += length + 2;
        return text;
      }
      case 0x2a: {
        // '*'
        const length = Number(line);
        if (length < 0) return null;
        const items: RedisReply[] = [];
        for (let i = 0; i < length; i++) {
          const item = this.parse();
          if (item === INCOMPLETE) return INCOMPLETE;
          // An error inside an array (EXEC, scripts) stays a value for the caller to inspect.
          items.push(item as RedisReply);
        }
        return items;
      }
      default:
        throw new RedisError(`unexpected reply type ${String(type)}`);
    }
  }
}

const defaultRetryDelay = (attempt: number) => Math.min(attempt * 100, 2000);

/** A request expecting `count` replies, open until `deadline`, settled once by `settle`. */
function newPending(
  count: number,
  deadline: number,
  settle: (result: (RedisReply | RedisError)[] | Error) => void,
): Pending {
  const pending: Pending = {
    count,
    replies: [],
    deadline,
    settle: (result) => {
      pending.settle = undefined;
      settle(result);
    },
  };
  return pending;
}

export class RedisClient extends EventEmitter {
  status: RedisStatus;
  private socket: Socket | undefined;
  private reader = new ReplyReader();
  /** Requests written to the socket, oldest first. */
  private readonly inFlight: Pending[] = [];
  /** Requests issued while the first connection was being opened, with their commands. */
  private waiting: { pending: Pending; payload: string }[] = [];
  private readonly loadedScripts = new Set<string>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  /** True until the first connection attempt ends: only then do commands wait for it. */
  private firstAttempt = true;
  private corked = false;
  private readonly commandTimeoutMs: number;

  constructor(private readonly options: RedisClientOptions) {
    super();
    this.commandTimeoutMs = options.commandTimeoutMs ?? 150;
    this.status = 'connecting';
    this.open();
  }

  /** Closes the connection for good; outstanding commands fail. */
  disconnect(): void {
    this.status = 'end';
    clearTimeout(this.reconnectTimer);
    this.dropConnection(new RedisError('Redis client disconnected'));
  }

  /** Runs one command. Error replies reject with RedisError. */
  async call(...args: RedisArg[]): Promise<RedisReply> {
    const [reply] = await this.request([args]);
    if (reply instanceof RedisError) throw reply;
    return reply as RedisReply;
  }

  get(key: string): Promise<string | null> {
    return this.call('GET', key) as Promise<string | null>;
  }

  set(key: string, value: RedisArg, ...options: RedisArg[]): Promise<string | null> {
    return this.call('SET', key, value, ...options) as Promise<string | null>;
  }

  del(...keys: string[]): Promise<number> {
    return this.call('DEL', ...keys) as Promise<number>;
  }

  exists(...keys: string[]): Promise<number> {
    return this.call('EXISTS', ...keys) as Promise<number>;
  }

  /** Runs a script by SHA (loading it first on this connection if needed). */
  async evalScript(script: RedisScript, ...keysAndArgs: RedisArg[]): Promise<RedisReply> {
    const [reply] = await this.exec([scriptCommand(script, keysAndArgs)]);
    if (reply instanceof RedisError) throw reply;
    return reply as RedisReply;
  }

  pipeline(): RedisPipeline {
    return new RedisPipeline(this);
  }

  /**
   * Sends commands in one write and returns one reply (or RedisError) per command. Scripts not
   * yet loaded on this connection are loaded in the same write; one that the server has
   * forgotten (NOSCRIPT, after a SCRIPT FLUSH) is run again by its source.
   */
  async exec(
    commands: readonly (RedisArg[] | ScriptCommand)[],
  ): Promise<(RedisReply | RedisError)[]> {
    const loads: RedisArg[][] = [];
    const wire: RedisArg[][] = [];
    const shas = new Set<string>();
    for (const command of commands) {
      if (Array.isArray(command)) {
        wire.push(command);
        continue;
      }
      const { script, keysAndArgs } = command;
      if (!this.loadedScripts.has(script.sha) && !shas.has(script.sha)) {
        shas.add(script.sha);
        loads.push(['SCRIPT', 'LOAD', script.lua]);
      }
      wire.push(['EVALSHA', script.sha, script.numberOfKeys, ...keysAndArgs]);
    }
    const replies = await this.request([...loads, ...wire]);
    for (const sha of shas) this.loadedScripts.add(sha);
    const results = replies.slice(loads.length);
    const forgotten = commands.flatMap((command, index) =>
      !Array.isArray(command) && isNoScript(results[index]) ? [index] : [],
    );
    if (forgotten.length > 0) {
      this.loadedScripts.clear();
      const again = await this.request(
        forgotten.map((index) => {
          const { script, keysAndArgs } = commands[index] as ScriptCommand;
          return ['EVAL', script.lua, script.numberOfKeys, ...keysAndArgs];
        }),
      );
      forgotten.forEach((index, i) => (results[index] = again[i] as RedisReply | RedisError));
    }
    return results;
  }

  /** Sends commands in one write; resolves with every reply once all arrived. */
  private request(commands: readonly RedisArg[][]): Promise<(RedisReply | RedisError)[]> {
    return new Promise((resolve, reject) => {
      const pending = newPending(commands.length, Date.now() + this.commandTimeoutMs, (result) =>
        result instanceof Error ? reject(result) : resolve(result),
      );
      let payload = '';
      for (const command of commands) payload += encodeCommand(command);
      if (this.status === 'ready') {
        this.write(pending, payload);
      } else if (this.firstAttempt && this.status !== 'end') {
        this.waiting.push({ pending, payload });
        this.armDeadline();
      } else {
        reject(new RedisError(`Redis is not connected (${this.status})`));
      }
    });
  }

  private write(pending: Pending, payload: string): void {
    const socket = this.socket as Socket;
    this.inFlight.push(pending);
    // Commands issued in the same tick leave in one packet.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(payload);
    this.armDeadline();
  }

  /** One timer for all requests, set for the earliest deadline still open. */
  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) return;
    let earliest = Infinity;
    for (const { pending } of this.waiting) earliest = Math.min(earliest, pending.deadline);
    for (const pending of this.inFlight) {
      if (pending.settle !== undefined) earliest = Math.min(earliest, pending.deadline);
    }
    if (earliest !== Infinity) this.expireIn(earliest - Date.now());
  }

  private expireIn(delayMs: number): void {
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = undefined;
        this.expire();
      },
      Math.max(0, delayMs),
    );
  }

  private expire(): void {
    const now = Date.now();
    const timedOut = () => new RedisError(`Redis command timed out (${this.commandTimeoutMs} ms)`);
    // A timed-out request keeps its place in flight: its replies still arrive, and are dropped.
    for (const pending of this.inFlight) {
      if (pending.deadline <= now) pending.settle?.(timedOut());
    }
    this.waiting = this.waiting.filter(({ pending }) => {
      if (pending.deadline > now) return true;
      pending.settle?.(timedOut());
      return false;
    });
    // A server that stopped answering altogether: start over on a new connection.
    const stuckAfterMs = Math.max(1000, 4 * this.commandTimeoutMs);
    const oldest = this.inFlight[0];
    if (oldest !== undefined && now - oldest.deadline > stuckAfterMs) {
      this.socket?.destroy(new RedisError('Redis stopped answering'));
      return;
    }
    this.armDeadline();
    // Re-check a stuck connection even when every request in flight has been settled.
    if (this.deadlineTimer === undefined && oldest !== undefined) this.expireIn(stuckAfterMs);
  }

  private authArgs(password: string): RedisArg[] {
    return this.options.username !== undefined
      ? ['AUTH', this.options.username, password]
      : ['AUTH', password];
  }

  private open(): void {
    const { host, port } = this.options;
    this.status = this.firstAttempt ? 'connecting' : 'reconnecting';
    const socket: Socket = this.options.tls
      ? connectTls({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}) })
      : connectTcp({ host, port });
    this.socket = socket;
    this.reader = new ReplyReader();
    this.loadedScripts.clear();
    socket.setNoDelay(true);
    socket.setTimeout(this.options.connectTimeoutMs ?? 1000, () => {
      socket.destroy(new RedisError('Redis connection timed out'));
    });
    socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      this.handshake(socket);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    let failure: Error | undefined;
    socket.on('error', (error) => {
      failure = error;
      // An EventEmitter without an 'error' listener would throw: the error is reported here only.
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    socket.once('close', () => this.onClose(socket, failure));
  }

  private handshake(socket: Socket): void {
    const { password } = this.options;
    if (password !== undefined) {
      const deadline = Date.now() + (this.options.connectTimeoutMs ?? 1000);
      const pending = newPending(1, deadline, (result) => {
        const reply = result instanceof Error ? result : result[0];
        if (reply instanceof Error) socket.destroy(reply);
        else this.becomeReady();
      });
      // Made now, once the socket is open: a token is fresh for each connection, and a cold start
      // does not spend its load time signing one.
      const secret = typeof password === 'function' ? password() : password;
      this.write(pending, encodeCommand(this.authArgs(secret)));
      return;
    }
    this.becomeReady();
  }

  private becomeReady(): void {
    this.status = 'ready';
    this.firstAttempt = false;
    this.attempts = 0;
    const waiting = this.waiting;
    this.waiting = [];
    for (const { pending, payload } of waiting) {
      if (pending.settle !== undefined) this.write(pending, payload);
    }
    this.emit('ready');
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    for (;;) {
      const head = this.inFlight[0];
      let reply: Parsed;
      try {
        reply = this.reader.next();
      } catch (error) {
        this.socket?.destroy(error as Error);
        return;
      }
      if (reply === INCOMPLETE) return;
      if (head === undefined) {
        this.socket?.destroy(new RedisError('Redis sent a reply nobody asked for'));
        return;
      }
      head.replies.push(reply);
      if (head.replies.length === head.count) {
        this.inFlight.shift();
        head.settle?.(head.replies);
      }
    }
  }

  private onClose(socket: Socket, failure: Error | undefined): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.dropConnection(
      failure instanceof RedisError
        ? failure
        : new RedisError(`Redis connection closed${failure ? `: ${failure.message}` : ''}`),
    );
    if (this.status === 'end') return;
    this.status = 'reconnecting';
    this.attempts += 1;
    const delay = (this.options.retryDelayMs ?? defaultRetryDelay)(this.attempts);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
    this.reconnectTimer.unref();
  }

  private dropConnection(reason: RedisError): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const failed = this.inFlight.splice(0);
    // Only the first connection holds commands; once it has failed they fail too.
    const waiting = this.waiting.splice(0);
    for (const pending of failed) pending.settle?.(reason);
    for (const { pending } of waiting) pending.settle?.(reason);
    this.firstAttempt = false;
    this.socket?.destroy();
    this.socket = undefined;
  }
}

export interface ScriptCommand {
  readonly script: RedisScript;
  readonly keysAndArgs: RedisArg[];
}

const scriptCommand = (script: RedisScript, keysAndArgs: RedisArg[]): ScriptCommand => ({
  script,
  keysAndArgs,
});

function isNoScript(reply: RedisReply | RedisError | undefined): boolean {
  return reply instanceof RedisError && reply.message.startsWith('NOSCRIPT');
}

/** Commands collected and sent in one write; `exec` gives `[error, reply]` per command. */
export class RedisPipeline {
  private readonly commands: (RedisArg[] | ScriptCommand)[] = [];

  constructor(private readonly client: RedisClient) {}

  get length(): number {
    return this.commands.length;
  }

  call(...args: RedisArg[]): this {
    this.commands.push(args);
    return this;
  }

  get(key: string): this {
    return this.call('GET', key);
  }

  set(key: string, value: RedisArg, ...options: RedisArg[]): this {
    return this.call('SET', key, value, ...options);
  }

  del(...keys: string[]): this {
    return this.call('DEL', ...keys);
  }

  expire(key: string, seconds: number): this {
    return this.call('EXPIRE', key, seconds);
  }

  zadd(key: string, ...scoresAndMembers: RedisArg[]): this {
    return this.call('ZADD', key, ...scoresAndMembers);
  }

  zrem(key: string, ...members: string[]): this {
    return this.call('ZREM', key, ...members);
  }

  sadd(key: string, ...members: string[]): this {
    return this.call('SADD', key, ...members);
  }

  sismember(key: string, member: string): this {
    return this.call('SISMEMBER', key, member);
  }

  smembers(key: string): this {
    return this.call('SMEMBERS', key);
  }

  evalScript(script: RedisScript, ...keysAndArgs: RedisArg[]): this {
    this.commands.push(scriptCommand(script, keysAndArgs));
    return this;
  }

  /** One `[error, reply]` per command, in order; rejects only if the request as a whole failed. */
  async exec(): Promise<[RedisError | null, RedisReply][]> {
    if (this.commands.length === 0) return [];
    const replies = await this.client.exec(this.commands);
    return replies.map((reply) =>
      reply instanceof RedisError ? [reply, null] : [null, reply as RedisReply],
    );
  }
}
