/**
 * The whole local stack in one process: the services, then the pieces that stand in for AWS's
 * managed parts (API Gateway with its JWT authorizer, S3 notifications, the DynamoDB stream event
 * source mapping, CloudFront), all invoking the very handler modules Lambda runs.
 */
import {
  ENV,
  FANOUT_FUNCTION,
  MEDIA_PUBLISHER_FUNCTION,
  MEDIA_SWEEPER_FUNCTION,
  ROUTES,
} from '../app/model';
import { startApiDocs } from './api-docs';
import { startApiGateway } from './api-gateway';
import { startCdn } from './cdn';
import { startControlServer } from './control';
import { ApiGatewayCors, DEFAULT_LOCAL_CORS_ORIGINS } from './cors';
import {
  DEFAULT_API_PORT,
  DEFAULT_APP_PORT,
  DEFAULT_CDN_PORT,
  DEFAULT_DOCS_PORT,
} from './defaults';
import type { LocalHttpServer } from './http-server';
import { loadOrCreateSigningKey, type SigningKey } from './jwt';
import { createJwtAuthorizer } from './jwt-authorizer';
import { LocalFunction } from './lambda-runtime';
import { silentLog, type Log } from './log';
import { sleep } from './ports';
import { createS3EventDelivery, type S3EventDelivery } from './s3-events';
import { DEFAULT_REGION, startServices, type Services } from './services';
import { startStreamPump, type StreamPumpOptions } from './stream-pump';
import { MetricsSummary } from './metrics-summary';
import { startWebApp } from './web-app';

export interface StackOptions {
  /** Data dir for services; undefined keeps service data in a temp dir (or in memory). */
  readonly servicesDataDir: string | undefined;
  /** Where the JWT signing key lives (so `npm run token` can find it). */
  readonly keyDir: string;
  readonly dynamoInMemory?: boolean;
  /** 0 picks a free port. @default 3000 */
  readonly apiPort?: number;
  /** 0 picks a free port. @default 3001 */
  readonly cdnPort?: number;
  /** The API reference page; 0 picks a free port. @default 3002 */
  readonly docsPort?: number;
  /** The web app (web/dist, built first when stale); 0 picks a free port. @default 3003 */
  readonly appPort?: number;
  /** Expose the fault-injection endpoint (tests, soak). @default false */
  readonly control?: boolean;
  /**
   * Browser origins the API, the bucket and the CDN allow (CORS).
   * @default DEFAULT_LOCAL_CORS_ORIGINS: any http://localhost:* and http://127.0.0.1:*
   */
  readonly corsOrigins?: readonly string[];
  /** Extra handler environment, e.g. FANOUT_MAX_FOLLOWERS (the soak). */
  readonly env?: Readonly<Record<string, string>>;
  /** Wraps the tweets stream's delivery to the fanout (the soak replays batches). @default direct */
  readonly fanoutDelivery?: StreamPumpOptions['deliverBatch'];
  /** Serve the API reference and the web app. @default true */
  readonly docsAndApp?: boolean;
  readonly log?: Log;
}

/** What a client of the stack needs; written as JSON to --ready-file for tests. */
export interface StackInfo {
  readonly pid: number;
  readonly dataDir: string;
  readonly keyDir: string;
  /** API emulator base URL. */
  readonly apiUrl: string | null;
  /** CDN base URL (CDN_BASE_URL). */
  readonly cdnUrl: string | null;
  readonly controlUrl: string | null;
  /** The rendered API reference (openapi.yaml through Redoc). */
  readonly docsUrl: string | null;
  /** The web app, signed in through the stack's local token route. */
  readonly appUrl: string | null;
  /** The handler environment (also applied to this process). */
  readonly env: Readonly<Record<string, string>>;
  readonly redis: { readonly pid: number | null; readonly port: number | null } | null;
  readonly dynamodb: { readonly pid: number | null; readonly endpoint: string };
}

export interface LocalStack {
  readonly info: StackInfo;
  /** The functions' application metrics since start (also at GET /_local/metrics). */
  readonly metrics: MetricsSummary;
  readonly services: Services;
  readonly signingKey: SigningKey;
  /** Upload events on their way to the transcoder: routing, failure destination, redrive. */
  readonly uploads: S3EventDelivery;
  /** Stream records the fanout has been handed so far (for quiescence checks). */
  fanoutDelivered(): number;
  stop(): Promise<void>;
}

/** Turns EADDRINUSE into a message that says which variable picks another port. */
const portInUse =
  (what: string, port: number, variable: string) =>
  (error: unknown): never => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`${what} port ${port} is in use; set ${variable} to another port`);
    }
    throw error;
  };

export async function startStack(options: StackOptions): Promise<LocalStack> {
  const log = options.log ?? silentLog;
  const signingKey = loadOrCreateSigningKey(options.keyDir);
  const region = process.env.AWS_REGION ?? DEFAULT_REGION;
  const corsOrigins = options.corsOrigins ?? DEFAULT_LOCAL_CORS_ORIGINS;
  const s3Events = createS3EventDelivery({ region, log });
  const services = await startServices({
    ...(options.servicesDataDir !== undefined ? { dataDir: options.servicesDataDir } : {}),
    dynamoInMemory: options.dynamoInMemory ?? false,
    region,
    onS3Event: s3Events.onEvent,
    corsOrigins,
    log,
  });
  const stoppers: (() => void | Promise<void>)[] = [() => services.stop()];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const stopper of [...stoppers].reverse()) {
      try {
        await stopper();
      } catch (error) {
        log(`stop failed: ${String(error)}`);
      }
    }
  };
  try {
    // Let transcodes in flight finish writing, but never hold Ctrl-C hostage for long.
    stoppers.push(() => Promise.race([s3Events.idle(), sleep(5_000)]));
    const cdnPort = options.cdnPort ?? DEFAULT_CDN_PORT;
    const cdn = await startCdn({
      port: cdnPort,
      bucket: services.bucket,
      s3Endpoint: services.s3Endpoint,
      region,
      credentials: services.credentials,
      corsOrigins,
      log,
    }).catch(portInUse('CDN', cdnPort, 'CDN_PORT'));
    stoppers.push(() => cdn.close());
    log(`CDN on ${cdn.url}`);

    const env = { ...services.env, [ENV.cdnBaseUrl]: cdn.url, ...options.env };
    // Handlers run in this process and read their configuration from process.env, as on Lambda.
    Object.assign(process.env, env);

    const fanout = await startStreamPump({
      tableName: services.tableNames.tweets,
      fn: FANOUT_FUNCTION,
      ...(options.fanoutDelivery ? { deliverBatch: options.fanoutDelivery } : {}),
      endpoint: services.dynamoEndpoint,
      region,
      credentials: services.credentials,
      log,
    });
    stoppers.push(() => fanout.stop());
    log('tweets stream -> fanout: polling');

    const publisher = await startStreamPump({
      tableName: services.tableNames.metadata,
      fn: MEDIA_PUBLISHER_FUNCTION,
      endpoint: services.dynamoEndpoint,
      region,
      credentials: services.credentials,
      log,
    });
    stoppers.push(() => publisher.stop());
    log('metadata stream (media) -> media publisher: polling');

    // The sweeper runs on its schedule, as the EventBridge rule runs it on AWS.
    const sweeper = new LocalFunction<unknown, unknown>(MEDIA_SWEEPER_FUNCTION, region);
    const sweep = setInterval(() => {
      sweeper
        .invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })
        .catch((error: unknown) => log(`media sweeper failed: ${String(error)}`));
    }, MEDIA_SWEEPER_FUNCTION.scheduleMinutes * 60_000);
    sweep.unref();
    stoppers.push(async () => {
      clearInterval(sweep);
      await sweeper.stop();
    });

    const metrics = new MetricsSummary();
    stoppers.push(() => metrics.stop());
    const apiPort = options.apiPort ?? DEFAULT_API_PORT;
    const api = await startApiGateway({
      localPages: { '/_local/metrics': () => metrics.snapshot() },
      port: apiPort,
      routes: ROUTES,
      authorizer: await createJwtAuthorizer(signingKey),
      region,
      log,
      cors: new ApiGatewayCors(corsOrigins),
    }).catch(portInUse('API', apiPort, 'API_PORT'));
    stoppers.push(() => api.close());
    log(`API on ${api.url}`);

    let docsUrl: string | null = null;
    let appUrl: string | null = null;
    if (options.docsAndApp !== false) {
      const docsPort = options.docsPort ?? DEFAULT_DOCS_PORT;
      const docs = await startApiDocs({ port: docsPort, log }).catch(
        portInUse('API reference', docsPort, 'DOCS_PORT'),
      );
      stoppers.push(() => docs.close());
      log(`API reference on ${docs.url}/`);

      const appPort = options.appPort ?? DEFAULT_APP_PORT;
      const app = await startWebApp({
        port: appPort,
        apiUrl: api.url,
        cdnUrl: cdn.url,
        signingKey,
        log,
      }).catch(portInUse('App', appPort, 'APP_PORT'));
      stoppers.push(() => app.close());
      log(`web app on ${app.url}`);
      docsUrl = `${docs.url}/`;
      appUrl = app.url;
    }

    let control: LocalHttpServer | undefined;
    if (options.control === true) {
      const server = await startControlServer({
        redis: services.redis,
        dynamodb: services.dynamo,
        functions: new Map([[MEDIA_SWEEPER_FUNCTION.id, sweeper]]),
      });
      stoppers.push(() => server.close());
      control = server;
    }

    const info: StackInfo = {
      pid: process.pid,
      dataDir: services.dataDir,
      keyDir: options.keyDir,
      apiUrl: api.url,
      cdnUrl: cdn.url,
      controlUrl: control?.url ?? null,
      docsUrl,
      appUrl,
      env,
      redis:
        services.redis === undefined
          ? null
          : { pid: services.redis.pid ?? null, port: services.redis.port },
      dynamodb: { pid: services.dynamo.pid ?? null, endpoint: services.dynamoEndpoint },
    };
    return {
      info,
      services,
      signingKey,
      metrics,
      uploads: s3Events,
      fanoutDelivered: () => fanout.delivered,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
