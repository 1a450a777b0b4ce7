/**
 * Fault injection for the soak run, against the soak's own stack:
 * - Redis SIGKILLed and restarted empty;
 * - DynamoDB Local stopped and restarted (its data is on disk, so it keeps what it acknowledged);
 * - a transcoder run SIGKILLed mid-way (in a child process), then retried, or never retried so the
 *   media sweeper has to end it;
 * - duplicate S3 upload events (concurrent, and late after the media is final);
 * - duplicate (concurrent) and retried (failed-after-apply) stream batches to the fanout.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import type S3rver from '@20minutes/s3rver';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS, MEDIA_PREFIXES } from '../app/model';
import type { Log } from '../local/log';
import { toAwsRecord } from '../local/s3-events';
import { fanoutFaults } from './faults/fanout-state';
import type { Ledger } from './ledger';
import type { SoakStack } from './stack';

const ROOT = resolve(__dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type VictimPlan = 'kill_then_retry' | 'kill_never_retry';

export class FaultInjector {
  private readonly victims = new Map<
    string,
    { plan: VictimPlan; done: (killedMidRun: boolean) => void }
  >();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly dynamo: DynamoDBDocumentClient;
  private streamTicker: NodeJS.Timeout | undefined;
  /** Chance that an ordinary upload event is delivered twice at once (and once more, late). */
  duplicateUploadChance = 0.5;

  constructor(
    private readonly stack: SoakStack,
    private readonly ledger: Ledger,
    private readonly log: Log,
  ) {
    const { services } = stack;
    this.dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: services.dynamoEndpoint,
        region: services.region,
        credentials: services.credentials,
        maxAttempts: 1,
      }),
    );
    stack.uploadRouter = (raw, deliver) => this.routeUpload(raw, deliver);
  }

  /** Kill redis-server (every cached tweet and timeline is gone) and start it again, empty. */
  async restartRedis(downMs = 500): Promise<void> {
    const redis = this.stack.services.redis;
    if (redis === undefined) throw new Error('the soak stack must manage its own Redis');
    const window = this.ledger.openWindow('redis_down');
    this.log('fault: Redis killed');
    await redis.stop();
    await sleep(downMs);
    await redis.start();
    window.end = Date.now();
    this.ledger.fault('redis_restarted_empty');
    this.log(`fault: Redis back, empty (${window.end - window.start} ms)`);
  }

  /** Stop DynamoDB Local, keep it down for `downMs`, start it again on the same data. */
  async restartDynamo(downMs = 2000): Promise<void> {
    const window = this.ledger.openWindow('dynamodb_down');
    this.log('fault: DynamoDB Local stopped');
    await this.stack.services.dynamo.stop();
    await sleep(downMs);
    await this.stack.services.dynamo.start();
    const back = Date.now();
    // A freshly started JVM answers slowly for a while; a client with a 3 s budget per attempt
    // (lambdas/platform/clients.ts) still sees an outage. The window closes once DynamoDB answers
    // three reads in a row within 1 s each, and the warm-up is reported.
    let fast = 0;
    while (fast < 3 && Date.now() - back < 30_000) {
      const started = Date.now();
      const status = await this.readMediaStatus('warm-up-probe').then(
        () => 'ok',
        () => 'error',
      );
      fast = status === 'ok' && Date.now() - started < 1000 ? fast + 1 : 0;
      if (fast < 3) await sleep(100);
    }
    window.end = Date.now();
    this.ledger.fault('dynamodb_restarted');
    this.ledger.note(
      `DynamoDB outage: process back after ${back - window.start} ms, answering normally after ${window.end - window.start} ms`,
    );
    this.log(
      `fault: DynamoDB Local back (${back - window.start} ms; answering normally after ${window.end - window.start} ms)`,
    );
  }

  /**
   * The next upload of this media is processed by a run that gets killed mid-way. Resolves true
   * once the kill landed while the run was processing, false if the run was not caught mid-way.
   */
  markVictim(mediaId: string, plan: VictimPlan): Promise<boolean> {
    return new Promise((done) => this.victims.set(mediaId, { plan, done }));
  }

  /** Duplicate and retried stream batches, continuously until stop(). */
  startStreamFaults(everyMs = 1500): void {
    let flip = false;
    this.streamTicker = setInterval(() => {
      const faults = fanoutFaults();
      // One armed fault at a time, alternating, so both kinds happen even when batches are rare.
      if (faults.duplicateNext > 0 || faults.failAfterApplyNext > 0) return;
      flip = !flip;
      if (flip) faults.duplicateNext = 1;
      else faults.failAfterApplyNext = 1;
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.streamTicker !== undefined) clearInterval(this.streamTicker);
    const faults = fanoutFaults();
    faults.duplicateNext = 0;
    faults.failAfterApplyNext = 0;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    this.dynamo.destroy();
  }

  /** Counts of stream faults that actually happened. */
  streamFaultCounts(): { duplicated: number; retried: number } {
    const faults = fanoutFaults();
    return { duplicated: faults.duplicated, retried: faults.failedAfterApply };
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private routeUpload(raw: S3rver.EventRecord, deliver: () => void): void {
    const key = raw.s3.object.key;
    const mediaId = key.startsWith(MEDIA_PREFIXES.uploads)
      ? key.slice(MEDIA_PREFIXES.uploads.length)
      : undefined;
    const victim = mediaId === undefined ? undefined : this.victims.get(mediaId);
    if (mediaId !== undefined && victim !== undefined) {
      this.victims.delete(mediaId);
      this.track(
        this.killMidRun(mediaId, raw, victim.plan, deliver).then(victim.done, (error: unknown) => {
          this.log(`fault: transcoder kill for ${mediaId} errored: ${String(error)}`);
          victim.done(false);
        }),
      );
      return;
    }
    deliver();
    const first = (this.ledger.faults.get('s3_event_duplicated') ?? 0) === 0;
    if (mediaId === undefined || (!first && Math.random() >= this.duplicateUploadChance)) return;
    const media = this.ledger.media.get(mediaId);
    if (media !== undefined) media.fault = 'duplicate';
    // A duplicate at once (two runs race for the claim) and a late one after the media is final.
    deliver();
    this.ledger.fault('s3_event_duplicated');
    this.track(
      sleep(3000 + randomInt(2000)).then(() => {
        deliver();
        this.ledger.fault('s3_event_redelivered_late');
      }),
    );
  }

  private async mediaStatus(mediaId: string): Promise<string | undefined> {
    try {
      return await this.readMediaStatus(mediaId);
    } catch {
      return undefined;
    }
  }

  private async readMediaStatus(mediaId: string): Promise<string | undefined> {
    {
      const out = await this.dynamo.send(
        new GetCommand({
          TableName: this.stack.services.tableNames.metadata,
          Key: METADATA_KEYS.media(mediaId),
          ConsistentRead: true,
        }),
      );
      return typeof out.Item?.status === 'string' ? out.Item.status : undefined;
    }
  }

  /**
   * Runs the transcoder for this upload in a child process and SIGKILLs it once it has claimed the
   * media (status processing), like a Lambda that ran out of memory. Then Lambda's retry delivers
   * the event again, or (kill_never_retry) nothing does and the sweeper must end it.
   */
  private async killMidRun(
    mediaId: string,
    raw: S3rver.EventRecord,
    plan: VictimPlan,
    deliver: () => void,
  ): Promise<boolean> {
    const event = { Records: [toAwsRecord(raw, this.stack.services.region)] };
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(ROOT, 'soak', 'transcoder-child.ts'),
        Buffer.from(JSON.stringify(event)).toString('base64'),
      ],
      { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    const giveUp = Date.now() + 30_000;
    let status: string | undefined;
    while (Date.now() < giveUp && exitCode === undefined) {
      status = await this.mediaStatus(mediaId);
      if (status !== 'pending_upload' && status !== undefined) break;
      await sleep(25);
    }
    if (status === 'processing') await sleep(100 + randomInt(400));
    status = await this.mediaStatus(mediaId);
    const runningAtKill = exitCode === undefined;
    child.kill('SIGKILL');
    await exited;
    const media = this.ledger.media.get(mediaId);
    if (status === 'processing' && runningAtKill) {
      this.ledger.fault('transcoder_killed_mid_run');
      if (media !== undefined) {
        media.fault = plan === 'kill_then_retry' ? 'killed_then_retried' : 'killed_never_retried';
      }
      this.log(`fault: transcoder killed mid-run for ${mediaId} (${plan})`);
      if (plan === 'kill_then_retry') deliver();
      return true;
    }
    {
      // The run finished (or never started) before the kill: not a mid-run kill. Deliver normally.
      this.ledger.note(`${mediaId}: status ${status}, exit ${String(exitCode)}`);
      this.log(
        `fault: transcoder kill for ${mediaId} missed (status ${status}); delivering normally`,
      );
      deliver();
      return false;
    }
  }
}
