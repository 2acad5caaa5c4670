/**
 * A sliding one-minute count (requests or tokens), estimated from two fixed windows the way
 * most gateways do: the previous minute's count weighted by how much of it still overlaps,
 * plus this minute's. Constant memory, no timers.
 */
export class MinuteCounter {
  private windowStart = 0;
  private current = 0;
  private previous = 0;

  private roll(now: number): void {
    const start = now - (now % 60_000);
    if (start === this.windowStart) return;
    this.previous = start - this.windowStart === 60_000 ? this.current : 0;
    this.current = 0;
    this.windowStart = start;
  }

  add(amount: number, now = Date.now()): void {
    this.roll(now);
    this.current += amount;
  }

  value(now = Date.now()): number {
    this.roll(now);
    const overlap = 1 - (now - this.windowStart) / 60_000;
    return this.previous * overlap + this.current;
  }
}

/** Counters per name (key id, deployment id), made on first use. */
export class MinuteCounters {
  private readonly counters = new Map<string, MinuteCounter>();

  get(name: string): MinuteCounter {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new MinuteCounter();
      this.counters.set(name, counter);
    }
    return counter;
  }
}
