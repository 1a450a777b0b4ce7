/**
 * Turns the ledger and the read-back into the soak's figures, its goals and the printed table.
 */
import type { Ledger } from './ledger';
import type { Verification } from './verify';

/** A request this long is a hang, whatever it returned. */
export const HANG_MS = 10_000;
/** After DynamoDB is back, requests may still see its outage for a moment (pooled sockets). */
export const WINDOW_GRACE_MS = 1500;

/** Client-side anomalies that break a promise of the API (the rest are informational). */
const FAILING_ANOMALIES = [
  'read_mismatch',
  'idempotency_split',
  'idempotent_retry_rejected',
  'create_rejected',
  'create_text_mismatch',
  'bad_create_response',
  'duplicate_in_page',
  'page_order',
  'timeline_error',
  'upload_failed',
  'media_tweet_failed',
  'client_exception',
];

/** Each kind must have happened at least once, or the run did not test what it claims. */
const REQUIRED_FAULTS = [
  'redis_restarted_empty',
  'dynamodb_restarted',
  'transcoder_killed_mid_run',
  'transcoder_run_swept',
  's3_event_duplicated',
  'stream_batch_duplicated',
  'stream_batch_retried',
];

export interface SoakResult {
  readonly durationSeconds: number;
  readonly clients: number;
  readonly users: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly byStatus: Record<string, number>;
  readonly errorsOutsideWindows: number;
  readonly inWindow: {
    readonly requests: number;
    readonly status503: number;
    readonly missingRetryAfter: number;
    readonly otherErrors: number;
    readonly maxMs: number;
  };
  readonly hung: number;
  readonly faults: Record<string, number>;
  readonly faultsInjected: number;
  readonly tweetsAcknowledged: number;
  readonly tweetsUnknownOutcome: { readonly written: number; readonly notWritten: number };
  readonly lost: number;
  readonly duplicates: number;
  readonly unexpected: number;
  readonly afterRedisLoss: {
    readonly lost: number;
    readonly duplicates: number;
    readonly unexpected: number;
  };
  readonly media: {
    readonly uploaded: number;
    readonly final: Record<string, number>;
    readonly stuck: number;
    readonly regressions: number;
  };
  readonly anomalies: Record<string, number>;
  /** Per route: count, p50 and p99 in ms (load phase, all outcomes). */
  readonly latency: Record<string, { count: number; p50: number; p99: number }>;
  readonly failures: string[];
  readonly details: string[];
  readonly notes: string[];
  readonly passed: boolean;
}

export function summarize(
  ledger: Ledger,
  verification: Verification,
  afterRedisLoss: { lost: number; duplicates: number; unexpected: number },
  run: { durationSeconds: number; clients: number },
): SoakResult {
  const byStatus: Record<string, number> = {};
  let errorsOutsideWindows = 0;
  let hung = 0;
  const inWindow = { requests: 0, status503: 0, missingRetryAfter: 0, otherErrors: 0, maxMs: 0 };
  const outsideExamples: string[] = [];
  const hangExamples: string[] = [];
  for (const request of ledger.requests) {
    const label = request.status === 0 ? 'network_error' : `${Math.floor(request.status / 100)}xx`;
    byStatus[label] = (byStatus[label] ?? 0) + 1;
    const ms = request.end - request.start;
    if (ms > HANG_MS) {
      hung += 1;
      const window = ledger.windows.find(
        (w) => w.kind === 'dynamodb_down' && request.end >= w.start,
      );
      if (hangExamples.length < 10) {
        hangExamples.push(
          `${request.route} -> ${request.status} after ${ms} ms, sent ${window === undefined ? '?' : request.start - window.start} ms after DynamoDB stopped` +
            (window?.end === undefined
              ? ''
              : ` (it was back ${window.end - window.start} ms after stopping)`),
        );
      }
    }
    const failed = request.status === 0 || request.status >= 500;
    if (ledger.inDynamoWindow(request, WINDOW_GRACE_MS)) {
      inWindow.requests += 1;
      inWindow.maxMs = Math.max(inWindow.maxMs, ms);
      if (request.status === 503) {
        inWindow.status503 += 1;
        if (request.retryAfter === undefined || request.errorCode !== 'service_unavailable') {
          inWindow.missingRetryAfter += 1;
        }
      } else if (failed) {
        inWindow.otherErrors += 1;
      }
    } else if (failed) {
      errorsOutsideWindows += 1;
      if (outsideExamples.length < 10) {
        const lastEnd = Math.max(
          0,
          ...ledger.windows
            .filter((w) => w.kind === 'dynamodb_down' && (w.end ?? 0) <= request.start)
            .map((w) => w.end ?? 0),
        );
        outsideExamples.push(
          `${request.route} ${request.status} ${request.errorCode ?? ''} sent ${lastEnd === 0 ? 'before any outage' : `${request.start - lastEnd} ms after DynamoDB was back`}, took ${request.end - request.start} ms`,
        );
      }
    }
  }

  const faults = Object.fromEntries(ledger.faults);
  const faultsInjected = [...ledger.faults.values()].reduce((a, b) => a + b, 0);
  const anomalies = Object.fromEntries(ledger.anomalies);
  const acked = [...ledger.tweets.values()].filter((t) => t.outcome === 'acked').length;

  const failures: string[] = [];
  if (errorsOutsideWindows > 0) {
    failures.push(
      `${errorsOutsideWindows} 5xx/network errors outside DynamoDB-down windows (${outsideExamples.join('; ')})`,
    );
  }
  if (inWindow.otherErrors > 0)
    failures.push(`${inWindow.otherErrors} errors other than 503 while DynamoDB was down`);
  if (inWindow.missingRetryAfter > 0)
    failures.push(`${inWindow.missingRetryAfter} 503s without Retry-After/service_unavailable`);
  if (hung > 0)
    failures.push(`${hung} requests took over ${HANG_MS} ms: ${hangExamples.join('; ')}`);
  const lost = verification.lost + afterRedisLoss.lost;
  const duplicates = verification.duplicates + afterRedisLoss.duplicates;
  const unexpected = verification.unexpected + afterRedisLoss.unexpected;
  if (lost > 0)
    failures.push(`${lost} acknowledged tweets lost (by id, user tweets or home timelines)`);
  if (duplicates > 0) failures.push(`${duplicates} duplicates`);
  if (unexpected > 0) failures.push(`${unexpected} unexpected or missing timeline entries`);
  if (verification.mediaStuck > 0) failures.push(`${verification.mediaStuck} media not final`);
  if (ledger.regressions.length > 0)
    failures.push(`media state regressions: ${ledger.regressions.join(', ')}`);
  for (const kind of FAILING_ANOMALIES) {
    const count = ledger.anomalies.get(kind) ?? 0;
    if (count > 0) failures.push(`${count} x ${kind}`);
  }
  for (const kind of REQUIRED_FAULTS) {
    if ((ledger.faults.get(kind) ?? 0) === 0) failures.push(`fault never injected: ${kind}`);
  }
  if (acked === 0) failures.push('no tweet was acknowledged');

  const byRoute = new Map<string, number[]>();
  for (const request of ledger.requests) {
    const list = byRoute.get(request.route) ?? [];
    list.push(request.end - request.start);
    byRoute.set(request.route, list);
  }
  const latency: SoakResult['latency'] = {};
  for (const [route, list] of byRoute) {
    list.sort((a, b) => a - b);
    const at = (q: number) => list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? 0;
    latency[route] = { count: list.length, p50: at(0.5), p99: at(0.99) };
  }

  const requests = ledger.requests.length;
  return {
    latency,
    durationSeconds: run.durationSeconds,
    clients: run.clients,
    users: ledger.users.length,
    requests,
    requestsPerSecond: Math.round(requests / run.durationSeconds),
    byStatus,
    errorsOutsideWindows,
    inWindow,
    hung,
    faults,
    faultsInjected,
    tweetsAcknowledged: acked,
    tweetsUnknownOutcome: {
      written: verification.unknownWritten,
      notWritten: verification.unknownNotWritten,
    },
    lost,
    duplicates,
    unexpected,
    afterRedisLoss,
    media: {
      uploaded: ledger.media.size,
      final: verification.mediaFinal,
      stuck: verification.mediaStuck,
      regressions: ledger.regressions.length,
    },
    anomalies,
    failures,
    details: [...verification.details, ...ledger.anomalyExamples],
    notes: ledger.notes,
    passed: failures.length === 0,
  };
}

function row(label: string, value: string | number, goal = ''): string {
  return `| ${label.padEnd(44)} | ${String(value).padStart(12)} | ${goal.padEnd(10)} |`;
}

export function formatTable(result: SoakResult): string {
  const ok = (pass: boolean) => (pass ? 'ok' : 'FAIL');
  const faultList = Object.entries(result.faults)
    .map(([kind, count]) => row(`  ${kind}`, count))
    .join('\n');
  const lines = [
    `| ${'metric'.padEnd(44)} | ${'value'.padStart(12)} | ${'goal'.padEnd(10)} |`,
    `|${'-'.repeat(46)}|${'-'.repeat(14)}|${'-'.repeat(12)}|`,
    row(
      'duration (s) / clients / users',
      `${result.durationSeconds}/${result.clients}/${result.users}`,
    ),
    row('requests', result.requests),
    row('requests per second', result.requestsPerSecond),
    row('2xx / 4xx', `${result.byStatus['2xx'] ?? 0} / ${result.byStatus['4xx'] ?? 0}`),
    row(
      '5xx + network errors outside DynamoDB-down',
      result.errorsOutsideWindows,
      `0 ${ok(result.errorsOutsideWindows === 0)}`,
    ),
    row('requests during DynamoDB-down windows', result.inWindow.requests),
    row('  503 with Retry-After', result.inWindow.status503 - result.inWindow.missingRetryAfter),
    row(
      '  other errors in windows',
      result.inWindow.otherErrors + result.inWindow.missingRetryAfter,
      `0 ${ok(result.inWindow.otherErrors + result.inWindow.missingRetryAfter === 0)}`,
    ),
    row('  slowest request in windows (ms)', result.inWindow.maxMs),
    row(`requests over ${HANG_MS} ms (hangs)`, result.hung, `0 ${ok(result.hung === 0)}`),
    row('faults injected', result.faultsInjected),
    faultList,
    row('tweets acknowledged', result.tweetsAcknowledged),
    row(
      'creates without answer: written / not',
      `${result.tweetsUnknownOutcome.written} / ${result.tweetsUnknownOutcome.notWritten}`,
    ),
    row('tweets lost', result.lost, `0 ${ok(result.lost === 0)}`),
    row('duplicates', result.duplicates, `0 ${ok(result.duplicates === 0)}`),
    row(
      'unexpected/missing timeline entries',
      result.unexpected,
      `0 ${ok(result.unexpected === 0)}`,
    ),
    row(
      '  of which after Redis loss (rebuild)',
      `${result.afterRedisLoss.lost + result.afterRedisLoss.duplicates + result.afterRedisLoss.unexpected}`,
    ),
    row('media uploaded', result.media.uploaded),
    ...Object.entries(result.media.final).map(([state, count]) => row(`  ${state}`, count)),
    row('media stuck (not ready/failed)', result.media.stuck, `0 ${ok(result.media.stuck === 0)}`),
    row(
      'media state regressions',
      result.media.regressions,
      `0 ${ok(result.media.regressions === 0)}`,
    ),
  ];
  const out = [lines.join('\n')];
  out.push(
    `latency by route (ms, p50/p99): ${Object.entries(result.latency)
      .map(([route, l]) => `${route} ${l.p50}/${l.p99} (n=${l.count})`)
      .join(', ')}`,
  );
  if (Object.keys(result.anomalies).length > 0) {
    out.push(`client-side observations: ${JSON.stringify(result.anomalies)}`);
  }
  if (result.notes.length > 0) out.push(`notes:\n  ${result.notes.join('\n  ')}`);
  if (result.details.length > 0) out.push(`details:\n  ${result.details.join('\n  ')}`);
  out.push(result.passed ? 'SOAK PASSED' : `SOAK FAILED:\n  ${result.failures.join('\n  ')}`);
  return out.join('\n');
}
