/**
 * Holds work back while requests keep arriving, and lets it go once they pause (no arrival
 * for `quietMs`) or once the oldest has waited `maxHoldMs`. Slack's intake and the Teams
 * bot put each event's handling through it: under a burst of mentions every acknowledgement is written
 * first, with no handler's queries and API calls in between, and the handling starts
 * right after. One mention at a time waits `quietMs`; a sustained stream waits at most
 * `maxHoldMs`.
 */
export class QuietGate {
  private waiting: (() => void)[] = [];
  private lastArrival = 0;
  private oldestWaiting = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly quietMs: number,
    private readonly maxHoldMs: number,
  ) {}

  /** A request came in: the quiet period starts again. */
  arrived(): void {
    this.lastArrival = performance.now();
  }

  /** Runs `work` once requests pause. */
  defer(work: () => void): void {
    if (this.waiting.length === 0) this.oldestWaiting = performance.now();
    this.waiting.push(work);
    this.schedule(this.quietMs);
  }

  /** Runs what is held now (a stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }

  private release(): void {
    const ready = this.waiting;
    this.waiting = [];
    for (const work of ready) work();
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = performance.now();
      const quietFor = now - this.lastArrival;
      if (quietFor < this.quietMs && now - this.oldestWaiting < this.maxHoldMs) {
        this.schedule(Math.max(1, this.quietMs - quietFor));
        return;
      }
      this.release();
    }, delayMs);
  }
}
