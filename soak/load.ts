/**
 * The soak's concurrent clients. Each loops until the deadline, picking a weighted operation:
 * create a tweet (some with an Idempotency-Key, some of those sent as concurrent duplicates and
 * retried until answered), read a tweet, read a home timeline or a user's tweets, follow or
 * unfollow, delete one of the newest tweets, or post a tweet with an image. Everything is written
 * to the ledger.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ApiClient, errorCode, jsonOf, rawRequest, type RawResponse } from './http';
import type { Ledger, SentTweet } from './ledger';

export interface LoadOptions {
  readonly apiUrl: string;
  readonly ledger: Ledger;
  readonly token: (userId: string) => string;
  readonly clients: number;
  readonly deadline: number;
  /** Load continues past the deadline while this says so (faults still being injected). */
  readonly keepGoing?: () => boolean;
  /** A small PNG for media tweets; undefined disables them. */
  readonly image: Buffer | undefined;
  readonly runTag: string;
  /** Called with each uploaded media id before its upload, so faults can be attached to it. */
  readonly onMediaUpload?: (mediaId: string) => void;
}

/** Texts exercise multi-byte UTF-8, emoji, CJK, combining-free accents, tab and newline. */
const FILLERS = [
  'hello world',
  'caf\u00e9 \u00fcber na\u00efve',
  '\u65e5\u672c\u8a9e\u306e\u30c4\u30a4\u30fc\u30c8',
  'emoji \u{1F426}\u{1F680}\u{1F44D}\u{1F3FD}',
  'tab\tand\nnewline',
  '\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd',
  'quotes " and \\ backslash',
];

interface Op {
  readonly weight: number;
  readonly run: (client: LoadClient) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pick<T>(items: readonly T[]): T {
  return items[randomInt(items.length)] as T;
}

export class LoadClient {
  private readonly apis = new Map<string, ApiClient>();
  private static seq = 0;
  /** Follow pairs with an operation in flight: one at a time per pair keeps the graph exact. */
  private static busyPairs = new Set<string>();

  constructor(private readonly options: LoadOptions) {}

  private api(userId: string): ApiClient {
    let api = this.apis.get(userId);
    if (api === undefined) {
      api = new ApiClient(this.options.apiUrl, this.options.token(userId));
      this.apis.set(userId, api);
    }
    return api;
  }

  /** One request, recorded in the ledger; undefined on a network error or timeout. */
  async call(
    route: string,
    userId: string,
    method: string,
    path: string,
    options: { json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<RawResponse | undefined> {
    const start = Date.now();
    let response: RawResponse | undefined;
    try {
      response = await this.api(userId).send(method, path, options);
    } catch {
      response = undefined;
    }
    const retryAfter = response?.headers['retry-after'];
    this.options.ledger.record({
      route,
      start,
      end: Date.now(),
      status: response?.status ?? 0,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      errorCode: response !== undefined && response.status >= 400 ? errorCode(response) : undefined,
    });
    return response;
  }

  /**
   * Sends until answered with a 2xx or 4xx (a 5xx or network error is retried after Retry-After,
   * as a client should), or until `giveUpAt`. Returns the last response.
   */
  async callUntilAnswered(
    route: string,
    userId: string,
    method: string,
    path: string,
    options: { json?: unknown; headers?: Record<string, string> },
    giveUpAt: number,
  ): Promise<RawResponse | undefined> {
    for (;;) {
      const response = await this.call(route, userId, method, path, options);
      if (response !== undefined && response.status < 500) return response;
      if (Date.now() > giveUpAt) return response;
      const retryAfter = Number(response?.headers['retry-after'] ?? '0.3');
      await sleep(Math.min(2000, Math.max(100, retryAfter * 1000)) + randomInt(100));
    }
  }

  private get users(): readonly string[] {
    return this.options.ledger.users;
  }

  private newTweet(author: string, keyed: boolean, mediaIds: string[] = []): SentTweet {
    const nonce = `#${this.options.runTag}.${(LoadClient.seq += 1)}`;
    const tweet: SentTweet = {
      nonce,
      author,
      text: `${nonce} ${pick(FILLERS)}`,
      idempotencyKey: keyed ? `soak-${randomBytes(12).toString('base64url')}` : undefined,
      mediaIds,
      outcome: 'unknown',
      tweetId: undefined,
    };
    this.options.ledger.tweets.set(nonce, tweet);
    return tweet;
  }

  /** Applies a create's answers to the ledger: same key must mean the same tweet. */
  private settleCreate(tweet: SentTweet, responses: readonly (RawResponse | undefined)[]): void {
    const ledger = this.options.ledger;
    const ids = new Set<string>();
    let rejected: RawResponse | undefined;
    for (const response of responses) {
      if (response === undefined) continue;
      if (response.status === 200 || response.status === 201) {
        const body = jsonOf(response) as { tweet_id?: string; text?: string } | undefined;
        if (typeof body?.tweet_id !== 'string') {
          ledger.anomaly('bad_create_response', response.body.toString('utf8').slice(0, 200));
          continue;
        }
        if (body.text !== tweet.text) {
          ledger.anomaly('create_text_mismatch', `${tweet.nonce}: ${JSON.stringify(body.text)}`);
        }
        ids.add(body.tweet_id);
      } else if (response.status >= 400 && response.status < 500) {
        rejected = response;
      }
    }
    if (ids.size > 1) {
      ledger.anomaly('idempotency_split', `${tweet.nonce} got ${[...ids].join(', ')}`);
    }
    const [id] = ids;
    if (id !== undefined) {
      tweet.outcome = 'acked';
      tweet.tweetId = id;
      if (rejected !== undefined) {
        ledger.anomaly(
          'idempotent_retry_rejected',
          `${tweet.nonce}: ${rejected.status} ${errorCode(rejected)}`,
        );
      }
    } else if (rejected !== undefined) {
      tweet.outcome = 'rejected';
      ledger.anomaly(
        'create_rejected',
        `${tweet.nonce}: ${rejected.status} ${errorCode(rejected)}`,
      );
    }
  }

  async createTweet(
    keyed: boolean,
    duplicates: number,
    mediaIds: string[] = [],
  ): Promise<SentTweet> {
    const author = pick(this.users);
    const tweet = this.newTweet(author, keyed, mediaIds);
    const body = {
      json: { text: tweet.text, ...(mediaIds.length > 0 ? { media_ids: mediaIds } : {}) },
    };
    if (tweet.idempotencyKey === undefined) {
      this.settleCreate(tweet, [await this.call('create', author, 'POST', '/v1/tweets', body)]);
      return tweet;
    }
    const keyedBody = { ...body, headers: { 'idempotency-key': tweet.idempotencyKey } };
    // Retried until answered, even past the run's end: an acknowledged outcome is what we verify.
    const giveUpAt = Math.max(this.options.deadline, Date.now()) + 90_000;
    const responses = await Promise.all(
      Array.from({ length: duplicates }, () =>
        this.callUntilAnswered('create', author, 'POST', '/v1/tweets', keyedBody, giveUpAt),
      ),
    );
    this.settleCreate(tweet, responses);
    return tweet;
  }

  async readTweet(): Promise<void> {
    const ledger = this.options.ledger;
    const acked = [...ledger.tweets.values()].filter((t) => t.outcome === 'acked');
    if (acked.length === 0) return;
    const tweet = acked[randomInt(Math.max(0, acked.length - 50), acked.length)] as SentTweet;
    const reader = pick(this.users);
    const response = await this.call(
      'get_tweet',
      reader,
      'GET',
      `/v1/tweets/${encodeURIComponent(tweet.tweetId ?? '')}`,
    );
    // Deleted meanwhile by its author: a 404 is then right.
    if (response === undefined || response.status >= 500 || tweet.outcome !== 'acked') return;
    const body = jsonOf(response) as { text?: string; tweet_id?: string } | undefined;
    if (response.status !== 200 || body?.text !== tweet.text || body.tweet_id !== tweet.tweetId) {
      ledger.anomaly(
        'read_mismatch',
        `${tweet.tweetId}: ${response.status} ${response.body.toString('utf8').slice(0, 120)}`,
      );
    }
  }

  async readTimeline(kind: 'home' | 'user'): Promise<void> {
    const reader = pick(this.users);
    const path =
      kind === 'home'
        ? '/v1/timeline?limit=50'
        : `/v1/users/${encodeURIComponent(pick(this.users))}/tweets?limit=50`;
    const response = await this.call(
      kind === 'home' ? 'home_timeline' : 'user_tweets',
      reader,
      'GET',
      path,
    );
    if (response === undefined || response.status !== 200) {
      if (response !== undefined && response.status < 500) {
        this.options.ledger.anomaly('timeline_error', `${path}: ${response.status}`);
      }
      return;
    }
    const body = jsonOf(response) as { tweets?: { tweet_id: string }[] } | undefined;
    const ids = (body?.tweets ?? []).map((t) => t.tweet_id);
    if (new Set(ids).size !== ids.length) {
      this.options.ledger.anomaly('duplicate_in_page', `${kind} page of ${reader}`);
    }
    for (let i = 1; i < ids.length; i++) {
      if ((ids[i] as string) >= (ids[i - 1] as string)) {
        this.options.ledger.anomaly('page_order', `${kind} page of ${reader} at ${i}`);
        break;
      }
    }
  }

  /**
   * An author deletes one of the newest acknowledged tweets (those that sit in timelines; `author`
   * limits it to theirs), retried until answered. Reads skip it from the moment the DELETE is sent.
   */
  async deleteTweet(author?: string): Promise<void> {
    const ledger = this.options.ledger;
    const acked = [...ledger.tweets.values()].filter(
      (t) => t.outcome === 'acked' && (author === undefined || t.author === author),
    );
    if (acked.length === 0) return;
    const tweet = acked[randomInt(Math.max(0, acked.length - 50), acked.length)] as SentTweet;
    tweet.outcome = 'deleting';
    const response = await this.callUntilAnswered(
      'delete',
      tweet.author,
      'DELETE',
      `/v1/tweets/${encodeURIComponent(tweet.tweetId ?? '')}`,
      {},
      Math.max(this.options.deadline, Date.now()) + 90_000,
    );
    // 404: an earlier attempt that was not answered (503 in an outage) had deleted it.
    if (response?.status === 204 || response?.status === 404) {
      tweet.outcome = 'deleted';
    } else {
      // Not answered: it may or may not exist, like a create of unknown outcome.
      tweet.outcome = 'unknown';
      ledger.anomaly('delete_failed', `${tweet.tweetId}: ${response?.status}`);
    }
  }

  async followOrUnfollow(): Promise<void> {
    const follower = pick(this.users);
    const followee = pick(this.users.filter((u) => u !== follower));
    const following = this.options.ledger.followeesOf(follower).has(followee);
    // Lean towards following so the graph stays interesting.
    await this.setFollow(follower, followee, following ? randomInt(100) < 25 : true);
  }

  /** PUT or DELETE one follow edge, retried until answered; the ledger keeps the outcome. */
  async setFollow(follower: string, followee: string, follow: boolean): Promise<void> {
    const ledger = this.options.ledger;
    const pair = `${follower}>${followee}`;
    if (LoadClient.busyPairs.has(pair)) return;
    LoadClient.busyPairs.add(pair);
    try {
      const response = await this.callUntilAnswered(
        follow ? 'follow' : 'unfollow',
        follower,
        follow ? 'PUT' : 'DELETE',
        `/v1/users/${encodeURIComponent(followee)}/follow`,
        {},
        Math.max(this.options.deadline, Date.now()) + 90_000,
      );
      if (response?.status === 204) {
        if (follow) ledger.followeesOf(follower).add(followee);
        else ledger.followeesOf(follower).delete(followee);
      } else {
        ledger.anomaly(
          'follow_failed',
          `${pair} ${follow ? 'follow' : 'unfollow'}: ${response?.status}`,
        );
        // Outcome unknown: settle it with the opposite intent later would guess; record as unknown.
        ledger.unsettledPairs.add(pair);
      }
    } finally {
      LoadClient.busyPairs.delete(pair);
    }
  }

  /**
   * The churn that leaves a timeline short of entries with nothing posted afterwards to refill it:
   * the user reads their home timeline (so it is built, and full at a small depth), unfollows one
   * followee and deletes one of their own newest tweets.
   */
  async finalChurn(user: string): Promise<void> {
    await this.callUntilAnswered(
      'home_timeline',
      user,
      'GET',
      '/v1/timeline?limit=50',
      {},
      Date.now() + 30_000,
    );
    const [followee] = this.options.ledger.followeesOf(user);
    if (followee !== undefined) await this.setFollow(user, followee, false);
    await this.deleteTweet(user);
  }

  /** init -> presigned PUT -> tweet with the media (keyed). */
  async mediaTweet(image: Buffer, contentType = 'image/png'): Promise<string | undefined> {
    const ledger = this.options.ledger;
    const owner = pick(this.users);
    const init = await this.callUntilAnswered(
      'media_init',
      owner,
      'POST',
      '/v1/media/init',
      { json: { content_type: contentType, size_bytes: image.length, alt_text: 'soak image' } },
      Math.max(this.options.deadline, Date.now()) + 90_000,
    );
    if (init?.status !== 201) return undefined;
    const body = jsonOf(init) as {
      media_id: string;
      upload_url: string;
      upload_headers: Record<string, string>;
    };
    ledger.media.set(body.media_id, {
      mediaId: body.media_id,
      owner,
      seen: ['pending_upload'],
      fault: undefined,
      failureCode: undefined,
    });
    this.options.onMediaUpload?.(body.media_id);
    const url = new URL(body.upload_url);
    let put: RawResponse | undefined;
    try {
      put = await rawRequest({
        method: 'PUT',
        baseUrl: url.origin,
        path: `${url.pathname}${url.search}`,
        headers: body.upload_headers,
        body: image,
      });
    } catch {
      put = undefined;
    }
    if (put?.status !== 200) {
      ledger.anomaly('upload_failed', `${body.media_id}: ${put?.status}`);
      ledger.media.delete(body.media_id);
      return undefined;
    }
    const tweet = await this.createTweetAs(owner, [body.media_id]);
    if (tweet.outcome !== 'acked') ledger.anomaly('media_tweet_failed', tweet.nonce);
    return body.media_id;
  }

  private async createTweetAs(author: string, mediaIds: string[]): Promise<SentTweet> {
    const tweet = this.newTweet(author, true, mediaIds);
    const response = await this.callUntilAnswered(
      'create',
      author,
      'POST',
      '/v1/tweets',
      {
        json: { text: tweet.text, media_ids: mediaIds },
        headers: { 'idempotency-key': tweet.idempotencyKey ?? '' },
      },
      Math.max(this.options.deadline, Date.now()) + 90_000,
    );
    this.settleCreate(tweet, [response]);
    return tweet;
  }

  operations(): Op[] {
    const ops: Op[] = [
      { weight: 20, run: (c) => c.createTweet(false, 1).then(() => undefined) },
      { weight: 10, run: (c) => c.createTweet(true, 1).then(() => undefined) },
      { weight: 5, run: (c) => c.createTweet(true, 2 + randomInt(2)).then(() => undefined) },
      { weight: 20, run: (c) => c.readTweet() },
      { weight: 20, run: (c) => c.readTimeline('home') },
      { weight: 7, run: (c) => c.readTimeline('user') },
      { weight: 10, run: (c) => c.followOrUnfollow() },
      { weight: 3, run: (c) => c.deleteTweet() },
    ];
    const image = this.options.image;
    if (image !== undefined)
      ops.push({ weight: 4, run: (c) => c.mediaTweet(image).then(() => undefined) });
    return ops;
  }

  async loop(): Promise<void> {
    const ops = this.operations();
    const total = ops.reduce((sum, op) => sum + op.weight, 0);
    while (Date.now() < this.options.deadline || this.options.keepGoing?.() === true) {
      let roll = randomInt(total);
      const op = ops.find((candidate) => (roll -= candidate.weight) < 0) as Op;
      try {
        await op.run(this);
      } catch (error) {
        this.options.ledger.anomaly(
          'client_exception',
          error instanceof Error ? error.message : String(error),
        );
      }
    }
  }
}

export async function runLoad(options: LoadOptions): Promise<void> {
  await Promise.all(Array.from({ length: options.clients }, () => new LoadClient(options).loop()));
}
