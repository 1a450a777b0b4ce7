/**
 * What the soak clients did and saw: every request's outcome and timing, every tweet they tried to
 * create (acknowledged, rejected, or of unknown outcome) or delete, the follow graph as acknowledged, the
 * media they uploaded and every media status they observed. The verifier compares the stack's
 * final state against it.
 */

/**
 * What became of a tweet: `deleting` while its author's DELETE is in flight, `deleted` once it was
 * answered 204 (it must then be gone everywhere).
 */
export type TweetOutcome = 'acked' | 'rejected' | 'unknown' | 'deleting' | 'deleted';

export interface SentTweet {
  /** Unique marker at the start of the text; identifies the tweet in any read. */
  readonly nonce: string;
  readonly author: string;
  readonly text: string;
  readonly idempotencyKey: string | undefined;
  readonly mediaIds: readonly string[];
  outcome: TweetOutcome;
  tweetId: string | undefined;
}

export interface RequestRecord {
  readonly route: string;
  readonly start: number;
  readonly end: number;
  /** 0 for a network error or timeout. */
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly errorCode: string | undefined;
}

export interface FaultWindow {
  readonly kind: string;
  readonly start: number;
  end: number | undefined;
}

export const MEDIA_RANK: Record<string, number> = {
  pending_upload: 0,
  processing: 1,
  ready: 2,
  failed: 2,
};

export interface UploadedMedia {
  readonly mediaId: string;
  readonly owner: string;
  /** Statuses observed, in order. */
  readonly seen: string[];
  /** Fault injected on its upload event, if any. */
  fault: 'duplicate' | 'killed_then_retried' | 'killed_never_retried' | undefined;
  failureCode: string | undefined;
}

export class Ledger {
  readonly requests: RequestRecord[] = [];
  readonly tweets = new Map<string, SentTweet>();
  /** follower -> followees, as acknowledged by the API. */
  readonly follows = new Map<string, Set<string>>();
  readonly media = new Map<string, UploadedMedia>();
  readonly windows: FaultWindow[] = [];
  readonly faults = new Map<string, number>();
  /** Things clients saw that are wrong on the spot (mismatched reads, duplicate page entries...). */
  readonly anomalies = new Map<string, number>();
  readonly anomalyExamples: string[] = [];
  /** Status regressions seen on media (e.g. ready -> processing). */
  readonly regressions: string[] = [];
  /** Follow pairs whose last operation was never answered; settled before verification. */
  readonly unsettledPairs = new Set<string>();

  constructor(readonly users: readonly string[]) {
    for (const user of users) this.follows.set(user, new Set());
  }

  record(request: RequestRecord): void {
    this.requests.push(request);
  }

  fault(kind: string, count = 1): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + count);
  }

  anomaly(kind: string, example: string): void {
    this.anomalies.set(kind, (this.anomalies.get(kind) ?? 0) + 1);
    if (this.anomalyExamples.length < 30) this.anomalyExamples.push(`${kind}: ${example}`);
  }

  /** Informational notes (not failures), e.g. a kill that came too late. */
  readonly notes: string[] = [];

  note(message: string): void {
    if (this.notes.length < 30) this.notes.push(message);
  }

  openWindow(kind: string): FaultWindow {
    const window: FaultWindow = { kind, start: Date.now(), end: undefined };
    this.windows.push(window);
    return window;
  }

  followeesOf(user: string): Set<string> {
    let set = this.follows.get(user);
    if (set === undefined) {
      set = new Set();
      this.follows.set(user, set);
    }
    return set;
  }

  observeMedia(mediaId: string, status: string, failureCode?: string): void {
    const media = this.media.get(mediaId);
    if (media === undefined) return;
    const previous = media.seen[media.seen.length - 1];
    if (previous !== undefined && previous !== status) {
      const back = (MEDIA_RANK[status] ?? 0) < (MEDIA_RANK[previous] ?? 0);
      const finalChanged = (MEDIA_RANK[previous] ?? 0) === 2;
      if (back || finalChanged) this.regressions.push(`${mediaId}: ${previous} -> ${status}`);
    }
    if (previous !== status) media.seen.push(status);
    if (failureCode !== undefined) media.failureCode = failureCode;
  }

  /** Requests that overlapped a DynamoDB-down window (plus a grace period after it). */
  inDynamoWindow(request: RequestRecord, graceMs: number): boolean {
    return this.windows.some(
      (w) =>
        w.kind === 'dynamodb_down' &&
        request.end >= w.start &&
        request.start <= (w.end ?? Number.POSITIVE_INFINITY) + graceMs,
    );
  }
}
