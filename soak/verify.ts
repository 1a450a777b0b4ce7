/**
 * The soak's read-back. After the load stops and the pipelines drain, it reads everything back
 * through the API and compares it with what the clients were told:
 * - every acknowledged tweet is readable by id with the same text and author, and every deleted
 *   one answers 404 and is listed nowhere;
 * - every acknowledged tweet is exactly once in its author's tweets (the complete DynamoDB history);
 * - each user's home timeline (all pages, up to 800) holds exactly the newest 800 of: their own
 *   tweets and those of the users they follow in the final, acknowledged follow graph, once each;
 * - nothing appears that was not sent, or was rejected, and no text appears under two tweet ids;
 * - every uploaded media ended ready or failed with a code, never stuck, never regressed.
 * Tweets whose create got no answer (5xx, network) may or may not exist: if they do, they count
 * like acknowledged ones from then on (once, in the right places).
 */
import { LIMITS } from '../app/model';
import { ApiClient, jsonOf, type RawResponse } from './http';
import type { Ledger, SentTweet } from './ledger';

export interface Verification {
  /** (tweet, place) pairs where an acknowledged tweet is missing: by id, user timeline, home. */
  readonly lost: number;
  /** Extra copies: the same id twice in a listing, or one text under two ids. */
  readonly duplicates: number;
  /** Entries that must not be there: unknown or rejected texts, unfollowed authors' tweets. */
  readonly unexpected: number;
  /** Unacknowledged creates that nevertheless exist (allowed; reported). */
  readonly unknownWritten: number;
  readonly unknownNotWritten: number;
  readonly mediaStuck: number;
  readonly mediaFinal: Record<string, number>;
  readonly details: string[];
  readonly homeTimelinesChecked: number;
  readonly requests: number;
}

interface TweetView {
  readonly tweet_id: string;
  readonly user_id: string;
  readonly text: string;
  readonly media?: { media_id: string; status: string }[];
}

const NONCE = /^(#[A-Za-z0-9]+\.[0-9]+) /;

export class Verifier {
  private requests = 0;
  private readonly details: string[] = [];
  private lost = 0;
  private duplicates = 0;
  private unexpected = 0;

  constructor(
    private readonly apiUrl: string,
    private readonly token: (userId: string) => string,
    private readonly ledger: Ledger,
    /** The stack's home timeline depth (TIMELINE_MAX_ENTRIES). */
    private readonly timelineDepth: number = LIMITS.timelineMaxEntries,
  ) {}

  private note(kind: string, message: string): void {
    if (this.details.length < 40) this.details.push(`${kind}: ${message}`);
  }

  private async get(userId: string, path: string): Promise<RawResponse> {
    const api = new ApiClient(this.apiUrl, this.token(userId));
    for (let attempt = 1; ; attempt++) {
      this.requests += 1;
      const response = await api.send('GET', path).catch(() => undefined);
      if (response !== undefined && response.status < 500) return response;
      if (attempt >= 5) throw new Error(`GET ${path}: ${response?.status ?? 'network error'}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Every page of a listing, newest first. */
  private async listAll(userId: string, path: string): Promise<TweetView[]> {
    const out: TweetView[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const response = await this.get(
        userId,
        `${path}${sep}limit=${LIMITS.pageMaxLimit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      const body = jsonOf(response) as { tweets: TweetView[]; next_cursor: string | null };
      out.push(...body.tweets);
      cursor = body.next_cursor;
      if (cursor === null) return out;
    }
    throw new Error(`${path}: more than 1000 pages`);
  }

  /** Classifies a tweet seen in a read: the sent tweet it is, or why it must not be there. */
  private sentFor(view: TweetView): SentTweet | undefined {
    const nonce = NONCE.exec(view.text)?.[1];
    return nonce === undefined ? undefined : this.ledger.tweets.get(nonce);
  }

  async run(): Promise<Verification> {
    const { ledger } = this;
    // 1. Authors' complete histories: what exists.
    const exists = new Map<string, TweetView>();
    const idByNonce = new Map<string, string>();
    for (const user of ledger.users) {
      const listed = await this.listAll(user, `/v1/users/${encodeURIComponent(user)}/tweets`);
      const seen = new Map<string, number>();
      for (const view of listed) {
        seen.set(view.tweet_id, (seen.get(view.tweet_id) ?? 0) + 1);
        exists.set(view.tweet_id, view);
        const sent = this.sentFor(view);
        if (
          sent === undefined ||
          sent.outcome === 'rejected' ||
          sent.outcome === 'deleted' ||
          sent.author !== user
        ) {
          this.unexpected += 1;
          this.note(
            'unexpected in user tweets',
            `${view.tweet_id} ${JSON.stringify(view.text.slice(0, 40))}`,
          );
          continue;
        }
        const other = idByNonce.get(sent.nonce);
        if (other !== undefined && other !== view.tweet_id) {
          this.duplicates += 1;
          this.note('one create, two tweets', `${sent.nonce}: ${other} and ${view.tweet_id}`);
        }
        idByNonce.set(sent.nonce, view.tweet_id);
        if (sent.outcome === 'acked' && sent.tweetId !== view.tweet_id) {
          this.duplicates += 1;
          this.note(
            'acknowledged id differs',
            `${sent.nonce}: acked ${sent.tweetId}, stored ${view.tweet_id}`,
          );
        }
      }
      for (const [id, count] of seen) {
        if (count > 1) {
          this.duplicates += count - 1;
          this.note('duplicate in user tweets', `${user}: ${id} x${count}`);
        }
      }
      for (let i = 1; i < listed.length; i++) {
        if ((listed[i] as TweetView).tweet_id >= (listed[i - 1] as TweetView).tweet_id) {
          this.note('user tweets out of order', `${user} at ${i}`);
          this.unexpected += 1;
          break;
        }
      }
    }

    // 2. Every acknowledged tweet: in its author's history, and readable by id.
    let unknownWritten = 0;
    let unknownNotWritten = 0;
    for (const sent of ledger.tweets.values()) {
      if (sent.outcome === 'unknown') {
        if (idByNonce.has(sent.nonce)) unknownWritten += 1;
        else unknownNotWritten += 1;
        continue;
      }
      if (sent.outcome === 'deleted' && sent.tweetId !== undefined) {
        const gone = await this.get(sent.author, `/v1/tweets/${encodeURIComponent(sent.tweetId)}`);
        if (gone.status !== 404) {
          this.unexpected += 1;
          this.note('deleted tweet still readable', `${sent.tweetId}: ${gone.status}`);
        }
        continue;
      }
      if (sent.outcome !== 'acked' || sent.tweetId === undefined) continue;
      if (!exists.has(sent.tweetId)) {
        this.lost += 1;
        this.note('acked tweet missing from user tweets', `${sent.tweetId}`);
      }
      const response = await this.get(
        sent.author,
        `/v1/tweets/${encodeURIComponent(sent.tweetId)}`,
      );
      const body = jsonOf(response) as TweetView | undefined;
      if (response.status !== 200) {
        this.lost += 1;
        this.note('acked tweet not readable', `${sent.tweetId}: ${response.status}`);
      } else if (body?.text !== sent.text || body.user_id !== sent.author) {
        this.lost += 1;
        this.note('acked tweet changed', `${sent.tweetId}: ${JSON.stringify(body?.text)}`);
      }
    }

    // 3. Home timelines against the final follow graph.
    const byAuthor = new Map<string, string[]>();
    for (const view of exists.values()) {
      const list = byAuthor.get(view.user_id) ?? [];
      list.push(view.tweet_id);
      byAuthor.set(view.user_id, list);
    }
    const homeTimelinesChecked = await this.checkHomeTimelines(byAuthor);

    // 4. Media: final, with a code when failed, never regressed.
    const mediaFinal: Record<string, number> = {};
    let mediaStuck = 0;
    for (const media of ledger.media.values()) {
      const response = await this.get(media.owner, `/v1/media/${media.mediaId}`);
      const body = jsonOf(response) as
        { status?: string; failure?: { code?: string } | null } | undefined;
      const status =
        response.status === 200 ? (body?.status ?? 'missing') : `http_${response.status}`;
      ledger.observeMedia(media.mediaId, status, body?.failure?.code);
      const label = status === 'failed' ? `failed:${body?.failure?.code ?? 'no_code'}` : status;
      mediaFinal[label] = (mediaFinal[label] ?? 0) + 1;
      if (status !== 'ready' && !(status === 'failed' && typeof body?.failure?.code === 'string')) {
        mediaStuck += 1;
        this.note('media not final', `${media.mediaId} (${media.fault ?? 'no fault'}): ${label}`);
      }
    }

    return {
      lost: this.lost,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      unknownWritten,
      unknownNotWritten,
      mediaStuck,
      mediaFinal,
      details: this.details,
      homeTimelinesChecked,
      requests: this.requests,
    };
  }

  /** Compares every user's home timeline with the expected set; returns how many were checked. */
  async checkHomeTimelines(byAuthor: ReadonlyMap<string, readonly string[]>): Promise<number> {
    const { ledger } = this;
    for (const user of ledger.users) {
      const authors = new Set([user, ...ledger.followeesOf(user)]);
      const expected = [...authors]
        .flatMap((author) => byAuthor.get(author) ?? [])
        .sort()
        .reverse()
        .slice(0, this.timelineDepth);
      const expectedSet = new Set(expected);
      const home = await this.listAll(user, '/v1/timeline');
      const counts = new Map<string, number>();
      for (const view of home) counts.set(view.tweet_id, (counts.get(view.tweet_id) ?? 0) + 1);
      for (const [id, count] of counts) {
        if (count > 1) {
          this.duplicates += count - 1;
          this.note('duplicate in home timeline', `${user}: ${id} x${count}`);
        }
        if (!expectedSet.has(id)) {
          this.unexpected += 1;
          const author = home.find((v) => v.tweet_id === id)?.user_id;
          this.note('unexpected in home timeline', `${user}: ${id} by ${author}`);
        }
      }
      for (const id of expected) {
        if (!counts.has(id)) {
          const sent = [...ledger.tweets.values()].find((t) => t.tweetId === id);
          // Only acknowledged tweets count as lost; an unknown-outcome tweet that exists but is
          // missing from a timeline is still a fanout defect, counted as unexpected absence.
          if (sent?.outcome === 'acked') this.lost += 1;
          else this.unexpected += 1;
          this.note('missing from home timeline', `${user}: ${id}`);
        }
      }
    }
    return ledger.users.length;
  }

  /** Re-checks only the home timelines (after Redis lost everything: they must rebuild). */
  async recheckHomeTimelines(): Promise<{ lost: number; duplicates: number; unexpected: number }> {
    const before = { lost: this.lost, duplicates: this.duplicates, unexpected: this.unexpected };
    const byAuthor = new Map<string, string[]>();
    for (const user of this.ledger.users) {
      const listed = await this.listAll(user, `/v1/users/${encodeURIComponent(user)}/tweets`);
      byAuthor.set(
        user,
        listed.map((v) => v.tweet_id),
      );
    }
    await this.checkHomeTimelines(byAuthor);
    return {
      lost: this.lost - before.lost,
      duplicates: this.duplicates - before.duplicates,
      unexpected: this.unexpected - before.unexpected,
    };
  }

  get totals() {
    return {
      lost: this.lost,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      requests: this.requests,
      details: this.details,
    };
  }
}
