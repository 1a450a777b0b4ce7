/**
 * In-process handler figures: create-tweet, get-tweet (hit and miss), get-timeline, the timeline
 * rebuild for a user following 200 people, and the fanout to 10,000 followers. Each handler is the
 * real entry module, invoked with the event Lambda would pass, against DynamoDB Local and Redis.
 */
import { ulid } from 'ulidx';
import { LIMITS, METADATA_KEYS } from '../../app/model';
import { tweetCacheKey } from '../../lambdas/core/tweets/store';
import {
  TIMELINE_SIZE_MEMBER,
  timelineKeys,
  timelineMember,
  tweetIdOfMember,
} from '../../lambdas/core/timelines/store-keys';
import { followKeys } from '../../lambdas/core/follows/store-cache';
import type { CacheClient } from '../../lambdas/platform/clients';
import {
  expectStatus,
  fanoutHandler,
  httpEvent,
  routeHandler,
  tweetInsertRecord,
  type HttpHandler,
} from '../lib/handlers';
import { compared, guarded, progress, quarterly, reportOnly, type Row } from '../lib/report';
import {
  COST_ROUTES,
  meterCapacity,
  meterEcpu,
  recordConsumption,
  recordTimelineBytes,
  type Capacity,
  type Consumption,
  type CountedClient,
  type InfoClient,
} from '../lib/cost';
import { batchWriteAll, seedingClient } from '../lib/seed';
import { measure, measurePair, median, summarize, timeMs, type Summary } from '../lib/stats';

export interface ApiOptions {
  readonly region: string;
  /** Samples per latency figure (>= 1000 per issue #5). */
  readonly samples: number;
  readonly warmup: number;
  readonly fanoutFollowers: number;
  readonly fanoutRounds: number;
  readonly rebuildFollowees: number;
  readonly rebuildRounds: number;
  /** Followers of the large side of fanout_scale_100k_vs_1k (and its rounds). */
  readonly scaleFollowers: number;
  readonly scaleRounds: number;
  /** Invocations per route measured for the cost model. */
  readonly costCalls: number;
  /** Which parts to run: 'api' (create, get, timeline), 'rebuild', 'fanout'. */
  readonly only: ReadonlySet<string>;
}

const ms = (x: number) => `${x.toFixed(3)} ms`;

/** A p50 ratio figure with its p99 beside it. */
function latencyRatioRows(
  name: string,
  baseline: string,
  pair: { a: Summary; b: Summary },
  maxRatio = 1.5,
): Row[] {
  return [
    compared({
      name,
      value: pair.a.p50,
      unit: 'ms (p50)',
      baseline: `${baseline}, p50`,
      baselineValue: pair.b.p50,
      goal: `ratio <= ${maxRatio}`,
      met: (r) => r <= maxRatio,
      note: `p99 ${ms(pair.a.p99)} vs ${ms(pair.b.p99)}, n=${pair.a.n}`,
    }),
    reportOnly(`${name}_p99`, pair.a.p99, 'ms', undefined, `${baseline}, p99`),
  ];
}

type Clients = typeof import('../../lambdas/platform/clients');

/** What the cost model needs from every figure: the handlers' DynamoDB capacity and the cache. */
interface Meter {
  readonly capacity: Capacity;
  readonly admin: InfoClient;
  /** The handlers' module-scope cache client. */
  readonly counted: CountedClient;
}

/**
 * Runs `run` `calls` times and returns one invocation's mean duration, the DynamoDB capacity the
 * handlers consumed and the cache ECPUs (bench/lib/cost.ts), averaged. `overheadEcpu` is what the
 * harness itself sends per call (e.g. a DEL to force a miss).
 */
async function consumption(
  meter: Meter,
  calls: number,
  run: (i: number) => Promise<unknown>,
  overheadEcpu = 0,
): Promise<Consumption> {
  const before = { ...meter.capacity };
  const times: number[] = [];
  const ecpu = await meterEcpu(meter.admin, meter.counted, async () => {
    for (let i = 0; i < calls; i++) times.push(await timeMs(() => run(i)));
  });
  return {
    ms: times.reduce((a, b) => a + b, 0) / calls,
    rru: (meter.capacity.rru - before.rru) / calls,
    wru: (meter.capacity.wru - before.wru) / calls,
    ecpu: Math.max(0, ecpu / calls - overheadEcpu),
  };
}

export async function apiFigures(options: ApiOptions): Promise<Row[]> {
  const clients: Clients = await import('../../lambdas/platform/clients');
  const { redis } = clients;
  // The client connects in the background (no offline queue): wait until it is ready.
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const createTweet = await routeHandler('CreateTweet');
  const getTweet = await routeHandler('GetTweet');
  const getTimeline = await routeHandler('GetTimeline');
  const capacity: Capacity = { rru: 0, wru: 0 };
  meterCapacity(clients.dynamo, capacity);
  const { awaitReady } = await import('../../lambdas/platform/cache');
  const admin = clients.createCacheClient(process.env.REDIS_URL ?? '', {
    commandTimeoutMs: 60_000,
  });
  await awaitReady(admin, 10_000);
  const meter: Meter = { capacity, admin, counted: clients.redis };
  const rows: Row[] = [];
  const part = async (name: string, figures: string[], run: () => Promise<Row[]>) => {
    if (options.only.has(name)) rows.push(...(await guarded(name, figures, run)));
  };
  try {
    await part(
      'api',
      [
        'get_tweet_hit_vs_redis_get',
        'timeline_read_vs_redis_floor',
        'timeline_celebrity_merge_vs_plain',
      ],
      () => readFigures(options, clients, meter, createTweet, getTweet, getTimeline),
    );
    await part('rebuild', ['timeline_rebuild_200_followees_p50', 'timeline_bytes_per_user'], () =>
      rebuildFigure(options, clients, meter, getTimeline),
    );
    await part('fanout', ['fanout_vs_redis_pipeline'], () => fanoutFigure(options, clients));
    await part('fanout', ['fanout_scale_100k_vs_1k'], () =>
      fanoutScaleFigure(options, clients, meter),
    );
  } finally {
    admin.disconnect();
  }
  return rows;
}

async function readFigures(
  options: ApiOptions,
  clients: Clients,
  meter: Meter,
  createTweet: HttpHandler,
  getTweet: HttpHandler,
  getTimeline: HttpHandler,
): Promise<Row[]> {
  const { redis } = clients;
  const rows: Row[] = [];

  // --- create-tweet -----------------------------------------------------------------------
  progress(`create-tweet: ${options.warmup} warm-up + ${options.samples} tweets`);
  const writer = 'bench-writer';
  const created: string[] = [];
  const create = async (i: number) => {
    const result = expectStatus(
      await createTweet(
        httpEvent({ routeId: 'CreateTweet', user: writer, body: { text: `t${i}` } }),
      ),
      201,
      'create-tweet',
    );
    created.push((JSON.parse(result.body ?? '{}') as { tweet_id: string }).tweet_id);
  };
  const createStats = await measure(create, {
    warmup: Math.min(options.warmup, 100),
    samples: options.samples,
    onProgress: quarterly('create-tweet'),
  });
  rows.push(
    reportOnly('create_tweet_p50', createStats.p50, 'ms', `p99 ${ms(createStats.p99)}`),
    reportOnly('create_tweet_p99', createStats.p99, 'ms'),
  );

  // --- get-tweet, cache hit ----------------------------------------------------------------
  const hitId = created[0] as string;
  const hitKey = `tweet:${hitId}`;
  const hitEvent = httpEvent({
    routeId: 'GetTweet',
    user: 'bench-reader',
    pathParameters: { tweet_id: hitId },
  });
  expectStatus(await getTweet(hitEvent), 200, 'get-tweet');
  if ((await redis.get(hitKey)) === null) throw new Error('get-tweet did not cache the tweet');
  progress(`get-tweet hit vs redis GET: ${options.samples} interleaved samples`);
  const hit = await measurePair(
    async () => expectStatus(await getTweet(hitEvent), 200, 'get-tweet hit'),
    // A timed-out GET (150 ms command timeout, on a loaded machine) is a slow sample, not a
    // failed run: the handler turns the same timeout into a cache miss.
    () => redis.get(hitKey).catch(() => null),
    { warmup: options.warmup, samples: options.samples, onProgress: quarterly('get-tweet hit') },
  );
  rows.push(
    ...latencyRatioRows('get_tweet_hit_vs_redis_get', 'redis GET same key, same connection', hit),
  );

  // --- get-tweet, cache miss ---------------------------------------------------------------
  const missIds = created.slice(1, 1 + options.samples);
  progress(`get-tweet miss: ${missIds.length} samples (key deleted before each)`);
  const missEvents = missIds.map((id) =>
    httpEvent({ routeId: 'GetTweet', user: 'bench-reader', pathParameters: { tweet_id: id } }),
  );
  const missSamples: number[] = [];
  for (let i = 0; i < missEvents.length; i++) {
    await redis.del(`tweet:${missIds[i]}`);
    const event = missEvents[i]!;
    missSamples.push(
      await timeMs(async () => expectStatus(await getTweet(event), 200, 'get-tweet miss')),
    );
  }
  const miss = summarize(missSamples);
  rows.push(
    reportOnly('get_tweet_miss_p50', miss.p50, 'ms', `p99 ${ms(miss.p99)}, n=${miss.n}`),
    reportOnly('get_tweet_miss_p99', miss.p99, 'ms'),
  );

  // --- the cost model's measurements of these routes ----------------------------------------
  progress(`cost: ${options.costCalls} metered calls each of create-tweet, get-tweet hit and miss`);
  recordConsumption(
    COST_ROUTES.createTweet,
    'CreateTweet',
    await consumption(meter, options.costCalls, (i) => create(100_000 + i)),
    true,
  );
  recordConsumption(
    COST_ROUTES.tweetHit,
    'GetTweet',
    await consumption(meter, options.costCalls, async () =>
      expectStatus(await getTweet(hitEvent), 200, 'get-tweet hit'),
    ),
    true,
  );
  const costMissIds = created.slice(-options.costCalls);
  recordConsumption(
    COST_ROUTES.tweetMiss,
    'GetTweet',
    await consumption(
      meter,
      costMissIds.length,
      async (i) => {
        const id = costMissIds[i]!;
        await redis.del(`tweet:${id}`);
        const event = httpEvent({
          routeId: 'GetTweet',
          user: 'bench-reader',
          pathParameters: { tweet_id: id },
        });
        expectStatus(await getTweet(event), 200, 'get-tweet miss');
      },
      1, // the harness's DEL
    ),
    true,
  );

  const initMedia = await routeHandler('InitMedia');
  const initEvent = httpEvent({
    routeId: 'InitMedia',
    user: 'bench-uploader',
    body: { content_type: 'image/jpeg', size_bytes: 3_000_000 },
  });
  recordConsumption(
    COST_ROUTES.initMedia,
    'InitMedia',
    await consumption(meter, options.costCalls, async () =>
      expectStatus(await initMedia(initEvent), 201, 'init-media'),
    ),
    true,
  );

  // --- get-timeline, 20 cached tweets ------------------------------------------------------
  rows.push(...(await timelineFigure(options, clients, meter, createTweet, getTimeline)));
  return rows;
}

async function timelineFigure(
  options: ApiOptions,
  clients: Clients,
  meter: Meter,
  createTweet: HttpHandler,
  getTimeline: HttpHandler,
): Promise<Row[]> {
  const { redis } = clients;
  const reader = 'bench-timeline';
  for (let i = 0; i < 25; i++) {
    expectStatus(
      await createTweet(
        httpEvent({ routeId: 'CreateTweet', user: reader, body: { text: `tl ${i}` } }),
      ),
      201,
      'create-tweet',
    );
  }
  const event = httpEvent({ routeId: 'GetTimeline', user: reader, query: { limit: '20' } });
  const check = async () => {
    const result = expectStatus(await getTimeline(event), 200, 'get-timeline');
    return result;
  };
  // The first read builds the timeline from DynamoDB; every later one is served from Redis.
  const first = await check();
  const page = JSON.parse(first.body ?? '{}') as { tweets: unknown[] };
  if (page.tweets.length !== 20) throw new Error(`timeline page has ${page.tweets.length} tweets`);
  // The floor reads the sorted set that holds the newest entries: the timeline's newest chunk.
  const [newest] = (await redis.call(
    'ZRANGE',
    timelineKeys.homeTimeline(reader),
    '+inf',
    '(0',
    'BYSCORE',
    'REV',
    'LIMIT',
    0,
    1,
  )) as string[];
  if (newest === undefined) throw new Error('the timeline has no chunk');
  const key = timelineKeys.timelineChunk(reader, newest);
  // The issue's floor: the newest 20 of that sorted set, then the 20 cached tweets as one
  // pipeline of GETs on the same client (their keys are in other slots, so not one MGET).
  const floor = async () => {
    const members = (await redis.call('ZREVRANGE', key, 0, 19).catch(() => [])) as string[];
    const pipeline = redis.pipeline();
    for (const member of members) pipeline.get(tweetCacheKey(tweetIdOfMember(member)));
    const replies = (await pipeline.exec().catch(() => null)) ?? [];
    return replies.map(([, value]) => value as string | null);
  };
  const floorPage = await floor();
  if (floorPage.length !== 20 || floorPage.some((v) => v === null)) {
    throw new Error('the timeline floor did not find 20 cached tweets');
  }
  progress(`get-timeline vs ZREVRANGE + 20 pipelined GETs: ${options.samples} interleaved samples`);
  const pair = await measurePair(check, floor, {
    warmup: options.warmup,
    samples: options.samples,
    onProgress: quarterly('get-timeline'),
  });
  recordConsumption(
    COST_ROUTES.timelineCached,
    'GetTimeline',
    await consumption(meter, options.costCalls, check),
    true,
  );
  return [
    ...latencyRatioRows(
      'timeline_read_vs_redis_floor',
      'ZREVRANGE 20 then the 20 GETs pipelined',
      pair,
    ),
    ...(await celebrityMergeFigure(options, clients, check)),
  ];
}

/**
 * A user following 20 authors above the fanout threshold: their tweets are not fanned out but
 * merged at read time from each author's cached newest ids (refilled from DynamoDB every 2 s).
 * Compared with the fully precomputed page of `plainPage`, interleaved.
 */
async function celebrityMergeFigure(
  options: ApiOptions,
  clients: Clients,
  plainPage: () => Promise<unknown>,
): Promise<Row[]> {
  const { tables } = clients;
  const getTimeline = await routeHandler('GetTimeline');
  const threshold = Number(process.env.FANOUT_MAX_FOLLOWERS ?? 10_000);
  const fan = 'bench-celebfan';
  const stars = Array.from({ length: 20 }, (_, i) => `bench-star${i}`);
  const perStar = 30;
  progress(
    `celebrity merge: ${stars.length} authors above ${threshold} followers, ${perStar} tweets each`,
  );
  await seedFollowedAuthors(tables, fan, stars, perStar, 7_000, {
    follower_count: threshold + 1,
    following_count: 0,
  });
  const event = httpEvent({ routeId: 'GetTimeline', user: fan, query: { limit: '20' } });
  const merged = async () => {
    const result = expectStatus(await getTimeline(event), 200, 'get-timeline (celebrities)');
    return result;
  };
  const first = JSON.parse((await merged()).body ?? '{}') as { tweets: { user_id: string }[] };
  const authors = new Set(first.tweets.map((t) => t.user_id));
  if (first.tweets.length !== 20 || authors.size < 10) {
    throw new Error(
      `merged page has ${first.tweets.length} tweets from ${authors.size} authors (want 20 from the 20 followed)`,
    );
  }
  const samples = Math.min(options.samples, 1000);
  progress(`celebrity-merged page vs precomputed page: ${samples} interleaved samples`);
  const pair = await measurePair(merged, plainPage, {
    warmup: Math.min(options.warmup, 200),
    samples,
    onProgress: quarterly('celebrity merge'),
  });
  return latencyRatioRows(
    'timeline_celebrity_merge_vs_plain',
    'get-timeline, fully precomputed page of 20',
    pair,
    3,
  );
}

async function rebuildFigure(
  options: ApiOptions,
  clients: Clients,
  meter: Meter,
  getTimeline: HttpHandler,
): Promise<Row[]> {
  const { redis, tables } = clients;
  const user = 'bench-follows200';
  const authors = Array.from({ length: options.rebuildFollowees }, (_, i) => `bench-a${i}`);
  const perAuthor = 10;
  progress(
    `timeline rebuild: ${authors.length} follows (handler), ${authors.length * perAuthor} tweets (BatchWrite)`,
  );
  await seedFollowedAuthors(tables, user, authors, perAuthor, 5_000);
  const event = httpEvent({ routeId: 'GetTimeline', user, query: { limit: '20' } });
  const samples: number[] = [];
  for (let round = 0; round < options.rebuildRounds; round++) {
    await dropTimeline(redis, user);
    samples.push(
      await timeMs(async () => {
        const result = expectStatus(await getTimeline(event), 200, 'get-timeline rebuild');
        const page = JSON.parse(result.body ?? '{}') as { tweets: unknown[] };
        if (page.tweets.length !== 20) throw new Error('rebuilt page is not 20 tweets');
      }),
    );
  }
  const built = await timelineSize(redis, user);
  const stats = summarize(samples);
  recordConsumption(
    COST_ROUTES.timelineRebuild,
    'GetTimeline',
    await consumption(
      meter,
      Math.min(10, options.rebuildRounds),
      async () => {
        await dropTimeline(redis, user);
        expectStatus(await getTimeline(event), 200, 'get-timeline rebuild');
      },
      1, // the harness's DEL
    ),
    true,
  );
  return [
    reportOnly(
      'timeline_rebuild_200_followees_p50',
      stats.p50,
      'ms',
      `p99(max) ${ms(stats.p99)}, ${options.rebuildRounds} rebuilds, ${built} entries rebuilt`,
    ),
    reportOnly('timeline_rebuild_200_followees_p99', stats.p99, 'ms'),
    await timelineBytesFigure(redis, user),
  ];
}

/** Deletes a user's home timeline (its index and every chunk), so the next read rebuilds it. */
async function dropTimeline(redis: CacheClient, user: string): Promise<void> {
  const index = timelineKeys.homeTimeline(user);
  const chunks = (await redis.call('ZRANGE', index, '(0', '+inf', 'BYSCORE')) as string[];
  await redis.del(index, ...chunks.map((id) => timelineKeys.timelineChunk(user, id)));
}

/**
 * The chunk a timeline seeded built and empty puts its first entries in (lambdas/core/timelines/
 * store.ts opens chunk 1 for the first entry, and splits it only past 128): the fanout figures
 * deliver fewer than that to each follower.
 */
const firstChunk = (user: string) => timelineKeys.timelineChunk(user, 1);

/** Entries of a user's home timeline, as its index counts them (lambdas/core/timelines/store.ts). */
async function timelineSize(redis: CacheClient, user: string): Promise<number> {
  const size = await redis.zscore(timelineKeys.homeTimeline(user), TIMELINE_SIZE_MEMBER);
  return -Number(size ?? 0);
}

/**
 * Redis memory of one user's full home timeline: MEMORY USAGE (every element counted) of each key
 * a built timeline needs, i.e. every timeline key of the user (the index and its chunks, found
 * with CLUSTER GETKEYSINSLOT in the user's hash slot, not from the index, so a key the index lost
 * track of is counted too) and the cached follow graph it is filtered and merged with (tweets
 * themselves are shared by every reader and not counted).
 */
async function timelineBytesFigure(redis: CacheClient, user: string): Promise<Row> {
  // A rebuild whose final write timed out on a loaded machine leaves no full timeline: rebuild
  // until one is there. A rebuild that read the whole depth drops the entries at its oldest score.
  const want = LIMITS.timelineMaxEntries - 1;
  for (let attempt = 0; ; attempt++) {
    await getTimelineOnce(user);
    const count = await timelineSize(redis, user);
    if (count >= want) break;
    if (attempt === 5) throw new Error(`no full timeline after 5 rebuilds (${count} entries)`);
    await dropTimeline(redis, user);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const entries = await timelineSize(redis, user);
  const index = timelineKeys.homeTimeline(user);
  const slot = (await redis.call('CLUSTER', 'KEYSLOT', index)) as number;
  const inSlot = (await redis.call('CLUSTER', 'GETKEYSINSLOT', slot, 10_000)) as string[];
  const prefix = timelineKeys.legacyHomeTimeline(user);
  const timelineKeyNames = inSlot.filter((key) => key.startsWith(prefix)).sort();
  const keys = [...timelineKeyNames, followKeys.followGraph(user)];
  const sizes: number[] = [];
  const encodings = new Map<string, number>();
  for (const key of keys) {
    const bytes = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
    if (bytes === null) throw new Error(`${key} is not in the cache`);
    sizes.push(bytes);
    if (key.startsWith(prefix)) {
      const encoding = (await redis.call('OBJECT', 'ENCODING', key)) as string;
      encodings.set(encoding, (encodings.get(encoding) ?? 0) + 1);
    }
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const timelineBytes = sizes.slice(0, timelineKeyNames.length).reduce((a, b) => a + b, 0);
  recordTimelineBytes(total);
  return compared({
    name: 'timeline_bytes_per_user',
    value: total / 1024,
    unit: 'KiB',
    baseline: 'goal, KiB',
    baselineValue: 64,
    goal: '<= 64 KiB',
    met: (r) => r <= 1,
    note:
      `${entries} entries in ${timelineKeyNames.length} timeline keys (index + chunks) ${timelineBytes} B, ` +
      `graph:{u} ${sizes[sizes.length - 1]} B; encodings ${[...encodings].map(([e, n]) => `${n} ${e}`).join(', ')}`,
  });
}

/** Reads a user's first timeline page once (the follow graph is cached by the read). */
async function getTimelineOnce(user: string): Promise<void> {
  const getTimeline = await routeHandler('GetTimeline');
  expectStatus(
    await getTimeline(httpEvent({ routeId: 'GetTimeline', user, query: { limit: '20' } })),
    200,
    'get-timeline',
  );
}

async function fanoutFigure(options: ApiOptions, clients: Clients): Promise<Row[]> {
  const { tables } = clients;
  // Setup, verification and the raw baseline use a connection of their own without the handlers'
  // 150 ms command timeout: a 10,000-command pipeline must not fail for being long.
  // Imported here, not at the top: the handlers' modules read process.env when first loaded.
  const { awaitReady } = await import('../../lambdas/platform/cache');
  const redis = clients.createCacheClient(process.env.REDIS_URL ?? '', {
    commandTimeoutMs: 60_000,
  });
  await awaitReady(redis, 10_000);
  try {
    return await fanoutRounds(options, tables, redis);
  } finally {
    redis.disconnect();
  }
}

async function fanoutRounds(
  options: ApiOptions,
  tables: Clients['tables'],
  redis: CacheClient,
): Promise<Row[]> {
  const dynamo = seedingClient();
  const { newTweetId, tweetTime } = await import('../../lambdas/core/ids');
  const fanout = await fanoutHandler();
  const author = 'bench-celeb';
  const n = options.fanoutFollowers;
  const followers = Array.from({ length: n }, (_, i) => `bench-f${String(i).padStart(5, '0')}`);
  progress(`fanout: seeding ${n} follower edges with BatchWrite`);
  const seedStart = process.hrtime.bigint();
  const createdAt = new Date().toISOString();
  // Only the FOLLOWER# direction (and the author's profile) is on the fanout's path; the 10,000
  // FOLLOWS# items live in the followers' own partitions and would only double the seeding time.
  const edges = followers.map((follower) => ({
    ...METADATA_KEYS.follower(author, follower),
    follower_id: follower,
    followee_id: author,
    created_at: createdAt,
  }));
  await batchWriteAll(
    dynamo,
    tables.metadata,
    [
      ...edges,
      { ...METADATA_KEYS.profile(author), user_id: author, follower_count: n, following_count: 0 },
    ],
    12,
  );
  progress(`  seeded in ${(Number(process.hrtime.bigint() - seedStart) / 1e9).toFixed(1)} s`);

  // Every follower has a built home timeline (fanout only writes to existing ones).
  const create = redis.pipeline();
  for (const follower of followers)
    create.zadd(timelineKeys.homeTimeline(follower), '-inf', 'built');
  await create.exec();

  const verify = async (tweetId: string) => {
    const check = redis.pipeline();
    for (const follower of followers)
      check.call('ZSCORE', firstChunk(follower), timelineMember(tweetId));
    const results = (await check.exec()) ?? [];
    const written = results.filter(([error, score]) => !error && score !== null).length;
    if (written !== n) {
      const cached = await redis.call('SCARD', followKeys.followers(author));
      throw new Error(
        `fanout wrote ${written} of ${n} timelines (cached follower set: ${String(cached)} members)`,
      );
    }
  };

  const fanoutMs: number[] = [];
  const rawMs: number[] = [];
  const runFanout = async () => {
    const tweetId = newTweetId(author);
    const event = { Records: [tweetInsertRecord(author, tweetId, options.region)] };
    const elapsed = await timeMs(async () => {
      const out = await fanout(event);
      if (out.batchItemFailures.length > 0) throw new Error('fanout reported a failure');
    });
    await verify(tweetId);
    return elapsed;
  };
  const runRaw = async () => {
    const tweetId = newTweetId(author);
    const score = tweetTime(tweetId);
    const elapsed = await timeMs(async () => {
      const pipeline = redis.pipeline();
      for (const follower of followers) {
        pipeline.zadd(firstChunk(follower), score, timelineMember(tweetId));
        pipeline.call('ZREMRANGEBYRANK', firstChunk(follower), 0, -801);
      }
      const results = (await pipeline.exec()) ?? [];
      if (results.some(([error]) => error)) throw new Error('the raw pipeline failed');
    });
    await verify(tweetId);
    return elapsed;
  };
  progress(`fanout vs raw pipeline: 1 warm-up + ${options.fanoutRounds} interleaved rounds`);
  // The first fanout of an author also builds whatever it caches about the author (follower set).
  const coldMs = await runFanout();
  await runRaw();
  for (let round = 0; round < options.fanoutRounds; round++) {
    if (round % 2 === 0) {
      fanoutMs.push(await runFanout());
      rawMs.push(await runRaw());
    } else {
      rawMs.push(await runRaw());
      fanoutMs.push(await runFanout());
    }
    progress(
      `  round ${round + 1}: fanout ${fanoutMs.at(-1)?.toFixed(0)} ms, raw ${rawMs.at(-1)?.toFixed(0)} ms`,
    );
  }
  const fanoutRate = n / (median(fanoutMs) / 1000);
  const rawRate = n / (median(rawMs) / 1000);
  return [
    compared({
      name: 'fanout_vs_redis_pipeline',
      value: fanoutRate,
      unit: 'deliveries/s',
      baseline: `pipelined ZADD+ZREMRANGEBYRANK, ${n} keys, writes/s`,
      baselineValue: rawRate,
      goal: 'ratio >= 0.8',
      met: (r) => r >= 0.8,
      note: `median of ${options.fanoutRounds}: fanout ${median(fanoutMs).toFixed(0)} ms vs raw ${median(rawMs).toFixed(0)} ms for ${n}`,
    }),
    reportOnly(
      'fanout_10k_first_delivery',
      coldMs,
      'ms',
      "the author's first fanout (the warm-up round), follower lookup from cold",
    ),
  ];
}

/**
 * An author whose followers are already cached, as a warm system has them: the profile's
 * follower_count in DynamoDB, the follower set in Redis marked built
 * (lambdas/core/follows/store-cache.ts), and every follower's home timeline built. Seeding the set in Redis instead
 * of 100,000 follower edges in DynamoDB Local keeps the figure inside the run's 10 minutes; the
 * fanout's path (count check, SMEMBERS, timeline writes) is the same.
 */
async function seedCachedAuthor(
  redis: CacheClient,
  tables: Clients['tables'],
  author: string,
  followers: readonly string[],
): Promise<void> {
  const { FOLLOWER_SET_TTL_SECONDS } = await import('../../lambdas/core/follows/store-cache');
  await batchWriteAll(seedingClient(), tables.metadata, [
    {
      ...METADATA_KEYS.profile(author),
      user_id: author,
      follower_count: followers.length,
      following_count: 0,
    },
  ]);
  const set = followKeys.followers(author);
  await redis.del(set);
  const CHUNK = 10_000;
  for (let i = 0; i < followers.length; i += CHUNK) {
    const chunk = followers.slice(i, i + CHUNK);
    const pipeline = redis.pipeline().sadd(set, ...chunk);
    for (const follower of chunk)
      pipeline.zadd(timelineKeys.homeTimeline(follower), '-inf', 'built');
    await pipeline.exec();
  }
  await redis.pipeline().sadd(set, '#built').expire(set, FOLLOWER_SET_TTL_SECONDS).exec();
}

/** How many of the followers' timelines hold the tweet (pipelined ZSCOREs in chunks). */
async function delivered(
  redis: CacheClient,
  followers: readonly string[],
  tweetId: string,
): Promise<number> {
  let count = 0;
  for (let i = 0; i < followers.length; i += 10_000) {
    const check = redis.pipeline();
    for (const follower of followers.slice(i, i + 10_000)) {
      check.call('ZSCORE', firstChunk(follower), timelineMember(tweetId));
    }
    count += ((await check.exec()) ?? []).filter(
      ([error, score]) => !error && score !== null,
    ).length;
  }
  return count;
}

/**
 * fanout_scale_100k_vs_1k: deliveries/s of one fanout to 100,000 followers over the same at 1,000,
 * rounds interleaved (one large, then three small). Also the fanout's cost at the model's mean
 * follower count (ASSUMPTIONS.meanFollowers).
 */
async function fanoutScaleFigure(
  options: ApiOptions,
  clients: Clients,
  meter: Meter,
): Promise<Row[]> {
  const { awaitReady } = await import('../../lambdas/platform/cache');
  const { ASSUMPTIONS } = await import('../lib/cost');
  const { newTweetId } = await import('../../lambdas/core/ids');
  const redis = clients.createCacheClient(process.env.REDIS_URL ?? '', {
    commandTimeoutMs: 60_000,
  });
  await awaitReady(redis, 10_000);
  try {
    const fanout = await fanoutHandler();
    const big = options.scaleFollowers;
    const small = 1_000;
    const names = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
    const authors = [
      { author: 'bench-scale-big', followers: names('bench-sb', big) },
      { author: 'bench-scale-small', followers: names('bench-ss', small) },
      { author: 'bench-scale-mean', followers: names('bench-sm', ASSUMPTIONS.meanFollowers) },
    ];
    progress(`fanout scale: caching ${big} + ${small} + ${ASSUMPTIONS.meanFollowers} followers`);
    for (const { author, followers } of authors) {
      await seedCachedAuthor(redis, clients.tables, author, followers);
    }
    let retries = 0;
    // A record the fanout reports as failed is sent again, as the event source mapping would; the
    // time until it is delivered counts, and the retries are reported.
    const once = async (author: string, followers: readonly string[], verify = true) => {
      const tweetId = newTweetId(author);
      const event = { Records: [tweetInsertRecord(author, tweetId, options.region)] };
      const elapsed = await timeMs(async () => {
        for (let attempt = 0; (await fanout(event)).batchItemFailures.length > 0; attempt++) {
          if (attempt === 3) throw new Error(`fanout of ${author} failed 4 times`);
          retries += 1;
        }
      });
      if (verify) {
        const count = await delivered(redis, followers, tweetId);
        if (count !== followers.length) {
          throw new Error(`fanout of ${author} reached ${count} of ${followers.length}`);
        }
      }
      return elapsed;
    };
    const [bigAuthor, smallAuthor, meanAuthor] = authors as [
      (typeof authors)[0],
      (typeof authors)[0],
      (typeof authors)[0],
    ];
    await once(bigAuthor.author, bigAuthor.followers);
    await once(smallAuthor.author, smallAuthor.followers);
    const bigMs: number[] = [];
    const smallMs: number[] = [];
    for (let round = 0; round < options.scaleRounds; round++) {
      bigMs.push(await once(bigAuthor.author, bigAuthor.followers));
      for (let k = 0; k < 3; k++)
        smallMs.push(await once(smallAuthor.author, smallAuthor.followers));
      progress(
        `  round ${round + 1}: ${big} in ${bigMs.at(-1)?.toFixed(0)} ms, ${small} in ${smallMs.at(-1)?.toFixed(1)} ms`,
      );
    }
    const bigRate = big / (median(bigMs) / 1000);
    const smallRate = small / (median(smallMs) / 1000);

    progress(
      `cost: ${options.costCalls} metered fanouts to ${ASSUMPTIONS.meanFollowers} followers`,
    );
    await once(meanAuthor.author, meanAuthor.followers);
    recordConsumption(
      COST_ROUTES.fanout,
      'Fanout',
      await consumption(meter, options.costCalls, () =>
        once(meanAuthor.author, meanAuthor.followers, false),
      ),
      false,
    );
    return [
      compared({
        name: 'fanout_scale_100k_vs_1k',
        value: bigRate,
        unit: 'deliveries/s',
        baseline: `fanout to ${small} followers, deliveries/s`,
        baselineValue: smallRate,
        goal: 'ratio >= 0.7',
        met: (r) => r >= 0.7,
        note: `median of ${bigMs.length} (${big}) and ${smallMs.length} (${small}): ${median(bigMs).toFixed(0)} ms vs ${median(smallMs).toFixed(1)} ms; ${retries} records retried after a reported failure`,
      }),
    ];
  } finally {
    redis.disconnect();
  }
}

/**
 * Authors with `perAuthor` tweets each (BatchWrite: spread back in time `spacingMs` apart,
 * interleaved across authors, like a real follow graph), their profiles as createTweet leaves them
 * (newest tweet id) plus `profile`, each author's first call (only users who exist can be
 * followed), and `follower` following every one of them through the handler.
 */
async function seedFollowedAuthors(
  tables: Clients['tables'],
  follower: string,
  authors: readonly string[],
  perAuthor: number,
  spacingMs: number,
  profile: Record<string, unknown> = {},
): Promise<void> {
  const dynamo = seedingClient();
  const { parseTweetId } = await import('../../lambdas/core/ids');
  const now = Date.now();
  // Ids in newTweetId's format, but from a non-monotonic ULID: the handlers' monotonic factory
  // never goes back in time, so every back-dated id would get the newest timestamp, and a rebuild
  // floor at that one score would remove them all (the floor keeps only entries above it).
  const tweetId = (author: string, at: number) => {
    const id = `${ulid(at)}-${author}`;
    if (parseTweetId(id) === undefined) throw new Error(`not a tweet id: ${id}`);
    return id;
  };
  const tweets = authors
    .flatMap((author, a) =>
      Array.from({ length: perAuthor }, (_, k) => ({
        author,
        k,
        at: now - (k * authors.length + a) * spacingMs,
      })),
    )
    .sort((x, y) => x.at - y.at)
    .map(({ author, k, at }) => ({
      user_id: author,
      tweet_id: tweetId(author, at),
      text: `tweet ${k} of ${author}`,
      created_at: new Date(at).toISOString(),
      media_ids: [],
    }));
  await batchWriteAll(dynamo, tables.tweets, tweets);
  await batchWriteAll(
    dynamo,
    tables.metadata,
    authors.map((author) => ({
      ...METADATA_KEYS.profile(author),
      user_id: author,
      ...profile,
      last_tweet_id: tweets
        .filter((t) => t.user_id === author)
        .reduce((a, t) => (t.tweet_id > a ? t.tweet_id : a), ''),
    })),
  );
  const getMe = await routeHandler('GetMe');
  const followUser = await routeHandler('FollowUser');
  for (const author of authors) {
    expectStatus(await getMe(httpEvent({ routeId: 'GetMe', user: author })), 200, 'get-me');
  }
  for (const author of authors) {
    expectStatus(
      await followUser(
        httpEvent({ routeId: 'FollowUser', user: follower, pathParameters: { user_id: author } }),
      ),
      204,
      'follow-user',
    );
  }
}
