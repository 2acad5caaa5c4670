/**
 * Lets the event loop turn when this thread has worked for longer than `sliceMs` without
 * it turning. PGlite runs each query on this thread and its promises settle as microtasks,
 * so a chain of queries could hold HTTP requests (Slack's acknowledgements among them)
 * until the chain ends. Yielding before every query fixed that but made each query wait a
 * whole turn of a busy loop: a mention's first reply in Slack went from about 80 to 280 ms.
 * So a marker notes when the loop last turned, and a query yields only when it has not
 * turned for a while.
 */
export class LoopSlice {
  private turnedAt = performance.now();
  private markerPending = false;

  constructor(private readonly sliceMs: number) {}

  async yieldIfLong(): Promise<void> {
    this.markTurn();
    if (performance.now() - this.turnedAt < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** The next turn of the loop records itself: until it runs, the loop has not turned. */
  private markTurn(): void {
    if (this.markerPending) return;
    this.markerPending = true;
    setImmediate(() => {
      this.markerPending = false;
      this.turnedAt = performance.now();
    });
  }
}
