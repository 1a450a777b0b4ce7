/**
 * Items pushed during one tick, handed on as one batch once the tick's I/O is done
 * (setImmediate). The local runtime sends invocations to a function's worker thread, and results
 * back, this way: each message wakes the other thread, and on this VM a wake-up cost more than
 * the cached GET it carried (bench/README.md, http_get_tweet_rps).
 */
export class TickBatch<T> {
  private items: T[] = [];

  constructor(private readonly send: (batch: T[]) => void) {}

  push(item: T): void {
    if (this.items.length === 0) setImmediate(this.flush);
    this.items.push(item);
  }

  /** Drops what was pushed and not sent yet. */
  clear(): void {
    this.items = [];
  }

  private readonly flush = (): void => {
    const batch = this.items;
    if (batch.length === 0) return;
    this.items = [];
    this.send(batch);
  };
}
