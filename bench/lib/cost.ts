/**
 * The cost model (issue #15): what each route and worker costs per million invocations, from what
 * the benchmark measured in this run (warm duration, DynamoDB capacity units the handler consumed,
 * the cache commands and bytes it sent), times list prices; and what 100,000 daily active users
 * cost per month under a stated mix of requests.
 */
import { CACHE_SIZING, FANOUT_FUNCTION, ROUTES, TRANSCODER_FUNCTION } from '../../app/model';
import type { DocumentStore } from '../../lambdas/platform/document-store';

/** List prices, us-east-1, arm64, as published by AWS on PRICES.date (check before quoting). */
export const PRICES = {
  date: '2026-12-04',
  region: 'us-east-1',
  /** Lambda arm64: per GB-second of duration (first tier) and per million requests. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** API Gateway HTTP API, first 300 million requests a month. */
  httpApiPerMillion: 1.0,
  /** DynamoDB on-demand (since the November 2024 price cut). */
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  /** ElastiCache Serverless for Valkey (the engine lib/constructs/cache.ts deploys). */
  valkeyPerMillionEcpu: 0.0023,
  valkeyGbHour: 0.084,
  /** Valkey serverless bills at least this much stored data. */
  valkeyMinGb: 0.1,
  /** CloudFront data transfer out, first 10 TB, North America/Europe; HTTPS requests per 10,000. */
  cloudfrontPerGb: 0.085,
  cloudfrontPerTenThousandHttps: 0.01,
} as const;

/** The requests one daily active user makes per day (issue #15's stated mix). */
export const DAILY_MIX = {
  timelineReads: 50,
  tweetReads: 5,
  tweets: 1,
  mediaUploads: 0.2,
} as const;

/** Assumptions the mix needs beyond the numbers; printed with the model. */
export const ASSUMPTIONS = {
  /** Share of tweet reads served from the cache. */
  tweetReadHitRate: 0.9,
  /** Share of timeline reads that find the timeline evicted (a rebuild). */
  timelineRebuildRate: 0.01,
  /** Followers a tweet is fanned out to, on average. */
  meanFollowers: 200,
  /** Views of each uploaded image's medium variant through the CDN. */
  viewsPerMedia: 100,
  /** Redis memory beside the timelines (tweets, graphs, follower sets): share of timelines. */
  otherCacheShare: 0.5,
  daysPerMonth: 30,
} as const;

/** What one invocation consumed, averaged over a measured batch. */
export interface Consumption {
  readonly ms: number;
  readonly rru: number;
  readonly wru: number;
  readonly ecpu: number;
  /** Bytes the CDN would send (media views), per invocation. */
  readonly egressBytes?: number;
  /** HTTPS requests the CDN would serve, per invocation. */
  readonly cdnRequests?: number;
}

interface Recorded {
  readonly functionId: string;
  readonly use: Consumption;
  readonly http: boolean;
}

/** What the figures measured for the model, in this process (the parent of the bench). */
const recorded = new Map<string, Recorded>();
let timelineBytes: number | undefined;

export function recordConsumption(
  route: string,
  functionId: string,
  use: Consumption,
  http: boolean,
): void {
  recorded.set(route, { functionId, use, http });
}

export function recordTimelineBytes(bytes: number): void {
  timelineBytes = bytes;
}

export function recordedCosts(): { routes: RouteCost[]; timelineBytes: number | undefined } {
  return {
    routes: [...recorded].map(([route, r]) => routeCost(route, r.functionId, r.use, r.http)),
    timelineBytes,
  };
}

export interface Capacity {
  rru: number;
  wru: number;
}

/**
 * Makes every call of a DocumentStore ask DynamoDB for the capacity it consumed
 * (ReturnConsumedCapacity TOTAL) and adds it to `into`. The store is the handlers' module-scope
 * one (lambdas/platform/clients.ts): its methods are replaced in place, so the handlers' own calls
 * are counted and nothing under lambdas/ changes. Transactions report doubled units themselves.
 */
export function meterCapacity(store: DocumentStore, into: Capacity): void {
  type Out = { ConsumedCapacity?: unknown };
  const add = (consumed: unknown) => {
    const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
    for (const entry of list as {
      CapacityUnits?: number;
      ReadCapacityUnits?: number;
      WriteCapacityUnits?: number;
    }[]) {
      if (entry.ReadCapacityUnits !== undefined || entry.WriteCapacityUnits !== undefined) {
        into.rru += entry.ReadCapacityUnits ?? 0;
        into.wru += entry.WriteCapacityUnits ?? 0;
      } else if (entry.CapacityUnits !== undefined) {
        // TOTAL without the read/write split: the operation's kind decides (set by the wrapper).
        into[currentKind] += entry.CapacityUnits;
      }
    }
  };
  let currentKind: 'rru' | 'wru' = 'rru';
  const kinds = {
    get: 'rru',
    query: 'rru',
    batchGet: 'rru',
    put: 'wru',
    update: 'wru',
    delete: 'wru',
    transactWrite: 'wru',
  } as const;
  const mutable = store as unknown as Record<string, (input: object) => Promise<Out>>;
  for (const [method, kind] of Object.entries(kinds)) {
    const original = mutable[method]!.bind(store);
    mutable[method] = async (input: object) => {
      const out = await original({ ...input, ReturnConsumedCapacity: 'TOTAL' });
      currentKind = kind;
      add(out.ConsumedCapacity);
      return out;
    };
  }
}

/** Any client that can send INFO (the bench's own cluster connection). */
export interface InfoClient {
  info(section: string): Promise<string>;
}

/** The handlers' cache client, whose commands are counted as they are sent. */
export interface CountedClient {
  sendCommand(command: { name: string }, ...rest: unknown[]): unknown;
}

async function netBytes(admin: InfoClient): Promise<number> {
  const stats = await admin.info('stats');
  const num = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  return num('total_net_input_bytes') + num('total_net_output_bytes');
}

/** Commands that run scripts: billed by vCPU time, sized per call like a fanout delivery. */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'fcall', 'evalsha_ro', 'fcall_ro']);
/** The cluster client's own housekeeping. */
const IGNORED = new Set(['cluster', 'info', 'ping', 'command']);

/**
 * ECPUs of what `run` sent to the cache through the handlers' client: its top-level commands are
 * counted as the client sends them (the server's commandstats would also count the commands a
 * script runs inside), a simple command 1 ECPU, a script CACHE_SIZING.ecpuPerFanoutDelivery (the
 * project's own sizing of a script call, bench:ecpu); never less than the KB the server
 * transferred (INFO stats, both directions).
 */
export async function meterEcpu(
  admin: InfoClient,
  client: CountedClient,
  run: () => Promise<void>,
): Promise<number> {
  let weighted = 0;
  const own = Object.getOwnPropertyDescriptor(client, 'sendCommand');
  const original = client.sendCommand.bind(client);
  client.sendCommand = (command, ...rest) => {
    const name = command.name.toLowerCase();
    if (!IGNORED.has(name)) {
      weighted += SCRIPT_COMMANDS.has(name) ? CACHE_SIZING.ecpuPerFanoutDelivery : 1;
    }
    return original(command, ...rest);
  };
  const before = await netBytes(admin);
  try {
    await run();
  } finally {
    if (own !== undefined) Object.defineProperty(client, 'sendCommand', own);
    else delete (client as { sendCommand?: unknown }).sendCommand;
  }
  const after = await netBytes(admin);
  // The INFO reply itself is counted in the byte totals: about 3 KB.
  const kb = Math.max(0, after - before - 3 * 1024) / 1024;
  return Math.max(weighted, kb);
}

/** Configured memory of a function (app/model.ts; 512 MB unless it says otherwise). */
export function memoryMb(id: string): number {
  const spec = [...ROUTES, FANOUT_FUNCTION, TRANSCODER_FUNCTION].find((f) => f.id === id);
  if (spec === undefined) throw new Error(`no function ${id} in the app model`);
  return spec.memoryMb ?? 512;
}

export interface RouteCost {
  readonly route: string;
  readonly function: string;
  readonly memory_mb: number;
  readonly warm_ms: number;
  readonly rru: number;
  readonly wru: number;
  readonly ecpu: number;
  readonly http: boolean;
  readonly usd_per_million: {
    readonly lambda: number;
    readonly api_gateway: number;
    readonly dynamodb: number;
    readonly cache_ecpu: number;
    readonly cdn: number;
    readonly total: number;
  };
}

/** Lambda bills duration rounded up to the millisecond. */
export function routeCost(
  route: string,
  functionId: string,
  use: Consumption,
  http: boolean,
): RouteCost {
  const mem = memoryMb(functionId);
  const lambda =
    Math.ceil(use.ms) * 1e-3 * (mem / 1024) * PRICES.lambdaArmGbSecond * 1e6 +
    PRICES.lambdaPerMillionRequests;
  const apiGateway = http ? PRICES.httpApiPerMillion : 0;
  const dynamodb = use.rru * PRICES.dynamoPerMillionRru + use.wru * PRICES.dynamoPerMillionWru;
  const cacheEcpu = use.ecpu * PRICES.valkeyPerMillionEcpu;
  const cdn =
    ((use.egressBytes ?? 0) / 1024 ** 3) * PRICES.cloudfrontPerGb * 1e6 +
    (use.cdnRequests ?? 0) * (PRICES.cloudfrontPerTenThousandHttps / 1e4) * 1e6;
  const r = (x: number) => Math.round(x * 10000) / 10000;
  return {
    route,
    function: functionId,
    memory_mb: mem,
    warm_ms: r(use.ms),
    rru: r(use.rru),
    wru: r(use.wru),
    ecpu: r(use.ecpu),
    http,
    usd_per_million: {
      lambda: r(lambda),
      api_gateway: apiGateway,
      dynamodb: r(dynamodb),
      cache_ecpu: r(cacheEcpu),
      cdn: r(cdn),
      total: r(lambda + apiGateway + dynamodb + cacheEcpu + cdn),
    },
  };
}

export interface CostModel {
  readonly prices: typeof PRICES;
  readonly mix_per_user_per_day: typeof DAILY_MIX;
  readonly assumptions: typeof ASSUMPTIONS;
  readonly routes: RouteCost[];
  readonly per_100k_dau_month: {
    readonly by_route: Record<string, number>;
    readonly cache_storage: number;
    readonly cache_gb: number;
    readonly timeline_bytes_per_user: number | null;
    readonly total: number;
  };
}

/**
 * USD per month for 100,000 daily active users: each route's cost per million times how many
 * times the mix calls it, plus the cache's stored data (every user's full timeline, at the
 * measured bytes per timeline, plus ASSUMPTIONS.otherCacheShare for the rest) around the clock.
 */
export function costModel(
  routes: readonly RouteCost[],
  timelineBytesPerUser: number,
  callsPerUserPerDay: Record<string, number>,
): CostModel {
  const users = 100_000;
  const perMonth = users * ASSUMPTIONS.daysPerMonth;
  const byRoute: Record<string, number> = {};
  for (const route of routes) {
    const calls = (callsPerUserPerDay[route.route] ?? 0) * perMonth;
    byRoute[route.route] = Math.round(((route.usd_per_million.total * calls) / 1e6) * 100) / 100;
  }
  // Without a measured timeline (its figure failed) only the minimum is counted, and the output
  // says so (cache_gb is then the minimum).
  const perUser = Number.isFinite(timelineBytesPerUser) ? timelineBytesPerUser : 0;
  const cacheGb = Math.max(
    PRICES.valkeyMinGb,
    (users * perUser * (1 + ASSUMPTIONS.otherCacheShare)) / 1024 ** 3,
  );
  const cacheStorage =
    Math.round(cacheGb * PRICES.valkeyGbHour * 24 * ASSUMPTIONS.daysPerMonth * 100) / 100;
  const total = Object.values(byRoute).reduce((sum, x) => sum + x, 0) + cacheStorage;
  return {
    prices: PRICES,
    mix_per_user_per_day: DAILY_MIX,
    assumptions: ASSUMPTIONS,
    routes: [...routes],
    per_100k_dau_month: {
      by_route: byRoute,
      cache_storage: cacheStorage,
      cache_gb: Math.round(cacheGb * 1000) / 1000,
      timeline_bytes_per_user: Number.isFinite(timelineBytesPerUser) ? timelineBytesPerUser : null,
      total: Math.round(total * 100) / 100,
    },
  };
}

/** The model's rows, by the name each figure records under. */
export const COST_ROUTES = {
  timelineCached: 'GetTimeline (cached)',
  timelineRebuild: 'GetTimeline (rebuild, 200 followees)',
  tweetHit: 'GetTweet (cache hit)',
  tweetMiss: 'GetTweet (cache miss)',
  createTweet: 'CreateTweet',
  fanout: `Fanout (one tweet, ${ASSUMPTIONS.meanFollowers} followers)`,
  initMedia: 'InitMedia',
  transcodeImage: `Transcoder (12 MP image) + ${ASSUMPTIONS.viewsPerMedia} CDN views`,
} as const;

/** Invocations of each model row per user per day, from DAILY_MIX and ASSUMPTIONS. */
export function mixCalls(): Record<string, number> {
  const a = ASSUMPTIONS;
  return {
    [COST_ROUTES.timelineCached]: DAILY_MIX.timelineReads * (1 - a.timelineRebuildRate),
    [COST_ROUTES.timelineRebuild]: DAILY_MIX.timelineReads * a.timelineRebuildRate,
    [COST_ROUTES.tweetHit]: DAILY_MIX.tweetReads * a.tweetReadHitRate,
    [COST_ROUTES.tweetMiss]: DAILY_MIX.tweetReads * (1 - a.tweetReadHitRate),
    [COST_ROUTES.createTweet]: DAILY_MIX.tweets,
    [COST_ROUTES.fanout]: DAILY_MIX.tweets,
    [COST_ROUTES.initMedia]: DAILY_MIX.mediaUploads,
    [COST_ROUTES.transcodeImage]: DAILY_MIX.mediaUploads,
  };
}

/** The model as printed after the table. */
export function formatCost(model: CostModel): string {
  const p = model.prices;
  const lines = [
    `Cost model (prices ${p.region}, arm64, as of ${p.date}: Lambda $${p.lambdaArmGbSecond}/GB-s + ` +
      `$${p.lambdaPerMillionRequests}/M requests; HTTP API $${p.httpApiPerMillion}/M; DynamoDB ` +
      `on-demand $${p.dynamoPerMillionWru}/M WRU, $${p.dynamoPerMillionRru}/M RRU; ElastiCache ` +
      `Serverless Valkey $${p.valkeyPerMillionEcpu}/M ECPU, $${p.valkeyGbHour}/GB-hour; CloudFront ` +
      `$${p.cloudfrontPerGb}/GB, $${p.cloudfrontPerTenThousandHttps}/10k HTTPS requests)`,
    '',
    '| route | memory MB | warm ms | RRU | WRU | ECPU | USD per million: Lambda | API GW | DynamoDB | cache | CDN | total |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...model.routes.map((r) => {
      const u = r.usd_per_million;
      return `| ${r.route} | ${r.memory_mb} | ${r.warm_ms.toFixed(2)} | ${r.rru} | ${r.wru} | ${r.ecpu.toFixed(1)} | ${u.lambda.toFixed(2)} | ${u.api_gateway.toFixed(2)} | ${u.dynamodb.toFixed(2)} | ${u.cache_ecpu.toFixed(3)} | ${u.cdn.toFixed(2)} | ${u.total.toFixed(2)} |`;
    }),
    '',
    `Per month per 100,000 daily active users (per user per day: ${DAILY_MIX.timelineReads} timeline ` +
      `reads, ${DAILY_MIX.tweetReads} tweet reads, ${DAILY_MIX.tweets} tweet, ${DAILY_MIX.mediaUploads} ` +
      `media uploads; ${JSON.stringify(model.assumptions)}):`,
    ...Object.entries(model.per_100k_dau_month.by_route).map(
      ([route, usd]) => `  ${route}: $${usd.toFixed(2)}`,
    ),
    `  cache storage (${model.per_100k_dau_month.cache_gb} GB from ${model.per_100k_dau_month.timeline_bytes_per_user ?? 'UNMEASURED (minimum only)'} bytes per timeline): $${model.per_100k_dau_month.cache_storage.toFixed(2)}`,
    `  total: $${model.per_100k_dau_month.total.toFixed(2)} per month`,
  ];
  return lines.join('\n');
}
