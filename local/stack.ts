/**
 * The whole local stack in one process: the services, then the pieces that stand in for AWS's
 * managed parts (API Gateway with its JWT authorizer, S3 notifications, the DynamoDB stream event
 * source mapping, CloudFront), all invoking the very handler modules Lambda runs.
 */
import { startControlServer, type ControlServer } from './control';
import { loadOrCreateSigningKey, type SigningKey } from './jwt';
import { silentLog, type Log } from './log';
import { startServices, type Services } from './services';

export interface StackOptions {
  /** Data dir for services; undefined keeps service data in a temp dir (or in memory). */
  readonly servicesDataDir: string | undefined;
  /** Where the JWT signing key lives (so `npm run token` can find it). */
  readonly keyDir: string;
  readonly dynamoInMemory?: boolean;
  /** Expose the fault-injection endpoint (tests, soak). @default false */
  readonly control?: boolean;
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
  /** The handler environment (also applied to this process). */
  readonly env: Readonly<Record<string, string>>;
  readonly redis: { readonly pid: number | null; readonly port: number | null } | null;
  readonly dynamodb: { readonly pid: number | null; readonly endpoint: string };
}

export interface LocalStack {
  readonly info: StackInfo;
  readonly services: Services;
  readonly signingKey: SigningKey;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<LocalStack> {
  const log = options.log ?? silentLog;
  const signingKey = loadOrCreateSigningKey(options.keyDir);
  const services = await startServices({
    ...(options.servicesDataDir !== undefined ? { dataDir: options.servicesDataDir } : {}),
    dynamoInMemory: options.dynamoInMemory ?? false,
    log,
  });
  const stoppers: (() => Promise<void>)[] = [() => services.stop()];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) {
      await stopper().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
  };
  try {
    const env = { ...services.env };
    // Handlers run in this process and read their configuration from process.env, as on Lambda.
    Object.assign(process.env, env);

    let control: ControlServer | undefined;
    if (options.control === true) {
      control = await startControlServer({ redis: services.redis, dynamodb: services.dynamo });
      stoppers.push(() => control!.close());
    }

    const info: StackInfo = {
      pid: process.pid,
      dataDir: services.dataDir,
      keyDir: options.keyDir,
      apiUrl: null,
      cdnUrl: null,
      controlUrl: control?.url ?? null,
      env,
      redis:
        services.redis === undefined
          ? null
          : { pid: services.redis.pid ?? null, port: services.redis.port },
      dynamodb: { pid: services.dynamo.pid ?? null, endpoint: services.dynamoEndpoint },
    };
    return { info, services, signingKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
