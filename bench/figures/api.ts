/**
 * In-process handler figures: create-tweet, get-tweet (hit and miss), get-timeline, the timeline
 * rebuild for a user following 200 people, and the fanout to 10,000 followers. Each handler is the
 * real entry module, invoked with the event Lambda would pass, against DynamoDB Local and Redis.
 */
import { METADATA_KEYS } from '../../app/model';
import { cacheKeys } from '../../lambdas/core/cache-keys';
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
  /** Which parts to run: 'api' (create, get, timeline), 'rebuild', 'fanout'. */
  readonly only: ReadonlySet<string>;
}

const ms = (x: number) => `${x.toFixed(3)} ms`;

/** A p50 ratio figure with its p99 beside it (goal: ratio <= 2). */
function latencyRatioRows(name: string, baseline: string, pair: { a: Summary; b: Summary }): Row[] {
  return [
    compared({
      name,
      value: pair.a.p50,
      unit: 'ms (p50)',
      baseline: `${baseline}, p50`,
      baselineValue: pair.b.p50,
      goal: 'ratio <= 2',
      met: (r) => r <= 2,
      note: `p99 ${ms(pair.a.p99)} vs ${ms(pair.b.p99)}, n=${pair.a.n}`,
    }),
    reportOnly(`${name}_p99`, pair.a.p99, 'ms', undefined, `${baseline}, p99`),
  ];
}

type Clients = typeof import('../../lambdas/platform/clients');

export async function apiFigures(options: ApiOptions): Promise<Row[]> {
  const clients: Clients = await import('../../lambdas/platform/clients');
  const { redis } = clients;
  // The client connects in the background (no offline queue): wait until it is ready.
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const createTweet = await routeHandler('CreateTweet');
  const getTweet = await routeHandler('GetTweet');
  const getTimeline = await routeHandler('GetTimeline');
  const rows: Row[] = [];
  const part = async (name: string, figures: string[], run: () => Promise<Row[]>) => {
    if (options.only.has(name)) rows.push(...(await guarded(name, figures, run)));
  };
  await part('api', ['get_tweet_hit_vs_redis_get', 'timeline_read_vs_redis_floor'], () =>
    readFigures(options, clients, createTweet, getTweet, getTimeline),
  );
  await part('rebuild', ['timeline_rebuild_200_followees_p50'], () =>
    rebuildFigure(options, clients, getTimeline),
  );
  await part('fanout', ['fanout_vs_redis_pipeline'], () => fanoutFigure(options, clients));
  return rows;
}

async function readFigures(
  options: ApiOptions,
  clients: Clients,
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

  // --- get-timeline, 20 cached tweets ------------------------------------------------------
  rows.push(...(await timelineFigure(options, clients, createTweet, getTimeline)));
  return rows;
}

async function timelineFigure(
  options: ApiOptions,
  clients: Clients,
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
  const key = cacheKeys.homeTimeline(reader);
  // The cache runs in cluster mode, where MGET needs keys of one slot: the floor reads copies of
  // the 20 cached tweets under keys sharing the reader's hash tag, so it stays one ZREVRANGE and
  // one MGET (the handler reads the real keys with a pipeline of GETs).
  const floorKey = (id: string) => `bench-floor:{${reader}}:${id}`;
  for (const id of (await redis.call('ZREVRANGE', key, 0, 19)) as string[]) {
    const value = await redis.get(cacheKeys.tweet(id));
    if (value !== null) await redis.set(floorKey(id), value);
  }
  const floor = async () => {
    const ids = (await redis.call('ZREVRANGE', key, 0, 19).catch(() => [])) as string[];
    return (await redis.call('MGET', ...ids.map(floorKey)).catch(() => [])) as (string | null)[];
  };
  const floorPage = await floor();
  if (floorPage.length !== 20 || floorPage.some((v) => v === null)) {
    throw new Error('the timeline floor did not find 20 cached tweets');
  }
  progress(`get-timeline vs ZREVRANGE+MGET: ${options.samples} interleaved samples`);
  const pair = await measurePair(check, floor, {
    warmup: options.warmup,
    samples: options.samples,
    onProgress: quarterly('get-timeline'),
  });
  return latencyRatioRows('timeline_read_vs_redis_floor', 'ZREVRANGE 20 then MGET 20 keys', pair);
}

async function rebuildFigure(
  options: ApiOptions,
  clients: Clients,
  getTimeline: HttpHandler,
): Promise<Row[]> {
  const { redis, tables } = clients;
  const dynamo = seedingClient();
  const { newTweetId } = await import('../../lambdas/core/ids');
  const followUser = await routeHandler('FollowUser');
  const user = 'bench-follows200';
  const authors = Array.from({ length: options.rebuildFollowees }, (_, i) => `bench-a${i}`);
  const perAuthor = 10;
  progress(
    `timeline rebuild: ${authors.length} follows (handler), ${authors.length * perAuthor} tweets (BatchWrite)`,
  );
  const now = Date.now();
  const tweets = authors.flatMap((author, a) =>
    Array.from({ length: perAuthor }, (_, k) => {
      // Spread over the last few hours, interleaved across authors, like a real follow graph.
      const at = now - (k * authors.length + a) * 5_000;
      const tweetId = newTweetId(author, at);
      return {
        user_id: author,
        tweet_id: tweetId,
        text: `tweet ${k} of ${author}`,
        created_at: new Date(at).toISOString(),
        media_ids: [],
      };
    }),
  );
  await batchWriteAll(dynamo, tables.tweets, tweets);
  // Written past createTweet, so each author's newest tweet is recorded here as createTweet would.
  await batchWriteAll(
    dynamo,
    tables.metadata,
    authors.map((author) => ({
      ...METADATA_KEYS.profile(author),
      user_id: author,
      last_tweet_id: tweets
        .filter((t) => t.user_id === author)
        .reduce((a, t) => (t.tweet_id > a ? t.tweet_id : a), ''),
    })),
  );
  // Each author makes their first call (only users who exist can be followed).
  const getMe = await routeHandler('GetMe');
  for (const author of authors) {
    expectStatus(await getMe(httpEvent({ routeId: 'GetMe', user: author })), 200, 'get-me');
  }
  for (const author of authors) {
    expectStatus(
      await followUser(
        httpEvent({ routeId: 'FollowUser', user, pathParameters: { user_id: author } }),
      ),
      204,
      'follow-user',
    );
  }
  const event = httpEvent({ routeId: 'GetTimeline', user, query: { limit: '20' } });
  const samples: number[] = [];
  for (let round = 0; round < options.rebuildRounds; round++) {
    await redis.del(cacheKeys.homeTimeline(user));
    samples.push(
      await timeMs(async () => {
        const result = expectStatus(await getTimeline(event), 200, 'get-timeline rebuild');
        const page = JSON.parse(result.body ?? '{}') as { tweets: unknown[] };
        if (page.tweets.length !== 20) throw new Error('rebuilt page is not 20 tweets');
      }),
    );
  }
  const built = (await redis.call('ZCARD', cacheKeys.homeTimeline(user))) as number;
  const stats = summarize(samples);
  return [
    reportOnly(
      'timeline_rebuild_200_followees_p50',
      stats.p50,
      'ms',
      `p99(max) ${ms(stats.p99)}, ${options.rebuildRounds} rebuilds, ${built - 1} entries rebuilt`,
    ),
    reportOnly('timeline_rebuild_200_followees_p99', stats.p99, 'ms'),
  ];
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
  for (const follower of followers) create.zadd(cacheKeys.homeTimeline(follower), '-inf', 'built');
  await create.exec();

  const verify = async (tweetId: string) => {
    const check = redis.pipeline();
    for (const follower of followers)
      check.call('ZSCORE', cacheKeys.homeTimeline(follower), tweetId);
    const results = (await check.exec()) ?? [];
    const written = results.filter(([error, score]) => !error && score !== null).length;
    if (written !== n) {
      const cached = await redis.call('SCARD', cacheKeys.followers(author));
      throw new Error(
        `fanout wrote ${written} of ${n} timelines (cached follower set: ${cached} members)`,
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
        pipeline.zadd(cacheKeys.homeTimeline(follower), score, tweetId);
        pipeline.call('ZREMRANGEBYRANK', cacheKeys.homeTimeline(follower), 0, -801);
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
      goal: 'ratio >= 0.5',
      met: (r) => r >= 0.5,
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
