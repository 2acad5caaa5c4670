import { describe, expect, it } from "vitest";
import { LoopSlice } from "./loop-slice.js";

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** A chain of "queries" that each take `ms` of this thread, as PGlite's do. */
async function chain(slice: LoopSlice, steps: number, ms: number, log: string[]): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await slice.yieldIfLong();
    busy(ms);
    log.push(`step ${i}`);
  }
}

describe("LoopSlice", () => {
  it("lets a waiting callback run in the middle of a long chain of work", async () => {
    const log: string[] = [];
    setImmediate(() => log.push("request"));
    await chain(new LoopSlice(5), 10, 2, log);
    const at = log.indexOf("request");
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(6);
  });

  it("does not yield when the loop has just turned", async () => {
    const slice = new LoopSlice(5);
    await slice.yieldIfLong();
    await new Promise((resolve) => setImmediate(resolve)); // the loop turns; the slice notes it
    let waitingRan = false;
    setImmediate(() => {
      waitingRan = true;
    });
    await slice.yieldIfLong();
    expect(waitingRan).toBe(false);
  });
});
