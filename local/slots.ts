/**
 * Values kept by a small number (a slot) until taken back, slots reused through a free list: how
 * the local runtime keeps the invocations in flight. Not a Map by a growing id: one churned by
 * every invocation kept whole requests alive through V8's young-generation GCs (a rehashed Map's
 * old table points to its successor, so each table that got promoted held on to the next one and
 * what was in it), and the API's thread promoted ~3 KB a request into the old generation
 * (bench/README.md, http_get_tweet_rps).
 */
export class Slots<T> {
  private readonly values: (T | undefined)[] = [];
  private readonly free: number[] = [];

  /** Keeps the value; returns its slot. */
  add(value: T): number {
    const slot = this.free.pop() ?? this.values.length;
    this.values[slot] = value;
    return slot;
  }

  get(slot: number): T | undefined {
    return this.values[slot];
  }

  /** Frees the slot; returns what it held. */
  take(slot: number): T | undefined {
    const value = this.values[slot];
    if (value === undefined) return undefined;
    this.values[slot] = undefined;
    this.free.push(slot);
    return value;
  }

  /** Frees every slot; returns what they held. */
  takeAll(): T[] {
    const taken = this.values.filter((value) => value !== undefined);
    this.values.length = 0;
    this.free.length = 0;
    return taken;
  }
}
