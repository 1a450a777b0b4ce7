/**
 * Fault injection for tests and the soak run: a small HTTP endpoint on 127.0.0.1 that stops and
 * starts the stack's services. Only `--control` turns it on; `npm start` does not expose it.
 *
 *   POST /redis/stop | /redis/start | /redis/restart     (restart = kill, then start empty)
 *   POST /dynamodb/stop | /dynamodb/start | /dynamodb/restart
 *   POST /functions/{id}/invoke       (body: the event; runs a scheduled function now)
 *   GET  /status
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveHttp, type LocalHttpServer } from './http-server';
import type { RestartableService } from './services';

export interface ControlTargets {
  readonly redis: RestartableService | undefined;
  readonly dynamodb: RestartableService;
  /** Functions that can be invoked on demand, by app model id. */
  readonly functions?: ReadonlyMap<string, { invoke(event: unknown): Promise<unknown> }>;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

function serviceStatus(service: RestartableService | undefined) {
  return service === undefined
    ? { managed: false }
    : { managed: true, running: service.isRunning, pid: service.pid ?? null };
}

export async function startControlServer(targets: ControlTargets): Promise<LocalHttpServer> {
  // Serialise operations so a stop and a start never interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const run = <T>(operation: () => Promise<T>): Promise<T> => {
    const next = queue.then(operation, operation);
    queue = next.catch(() => undefined);
    return next;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'GET' && path === '/status') {
      reply(200, {
        redis: serviceStatus(targets.redis),
        dynamodb: serviceStatus(targets.dynamodb),
      });
      return;
    }
    const invoke = /^\/functions\/([A-Za-z]+)\/invoke$/.exec(path);
    const fn = invoke === null ? undefined : targets.functions?.get(invoke[1] ?? '');
    if (request.method === 'POST' && fn !== undefined) {
      try {
        reply(200, { result: (await fn.invoke(await readJson(request))) ?? null });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        reply(500, { error: { name: failure.name, message: failure.message } });
      }
      return;
    }
    const match = /^\/(redis|dynamodb)\/(stop|start|restart)$/.exec(path);
    if (request.method !== 'POST' || match === null) {
      reply(404, { message: 'Not Found' });
      return;
    }
    const [, name, action] = match;
    const service = name === 'redis' ? targets.redis : targets.dynamodb;
    if (service === undefined) {
      reply(409, { message: `${name} is external (REDIS_URL); the stack does not manage it` });
      return;
    }
    const started = Date.now();
    try {
      await run(async () => {
        if (action === 'stop' || action === 'restart') await service.stop();
        if (action === 'start' || action === 'restart') await service.start();
      });
      reply(200, { ...serviceStatus(service), took_ms: Date.now() - started });
    } catch (error) {
      reply(500, { message: String(error) });
    }
  };
  return serveHttp(0, handle, (error, response) => {
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: String(error) }));
  });
}
