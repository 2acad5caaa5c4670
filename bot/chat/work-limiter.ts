/**
 * Runs at most `limit` pieces of work at once; the rest wait their turn in order. A burst
 * of chat messages then leaves the event loop free to acknowledge each delivery at once
 * (Slack wants an answer within 3 s), instead of every handler's queries competing with it.
 */
export class WorkLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}
