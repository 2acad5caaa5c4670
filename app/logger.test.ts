import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StdoutDestination } from "./logger.js";

/** A pipe whose reader has stopped reading: writes are taken, none completes until `drain()`. */
class StuckPipe extends Writable {
  written: string[] = [];
  private pending: (() => void)[] = [];

  constructor() {
    super({ highWaterMark: 16 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written.push(chunk.toString());
    this.pending.push(done);
  }

  drainAll(): void {
    for (const done of this.pending.splice(0)) done();
  }
}

describe("StdoutDestination", () => {
  it("holds no more than its limit for a reader that stopped reading, and tells how many lines it dropped", async () => {
    const pipe = new StuckPipe();
    const destination = new StdoutDestination(pipe, 100);
    const told: number[] = [];
    destination.onResume = (dropped) => told.push(dropped);
    for (let i = 0; i < 50; i++) destination.write(`line ${i} ${"x".repeat(20)}\n`);
    // The first line is in the pipe's hands; the next few wait; the rest are dropped.
    expect(pipe.writableLength).toBeLessThanOrEqual(100 + 30);
    expect(destination.dropped).toBeGreaterThan(40);
    const dropped = destination.dropped;
    // The reader catches up, one completed write after another.
    for (let i = 0; i < 10; i++) {
      pipe.drainAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(told).toEqual([dropped]);
    expect(destination.dropped).toBe(0);
  });

  it("drops lines quietly once the reader has gone away (a closed pipe)", () => {
    const pipe = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const destination = new StdoutDestination(pipe);
    // The first write fails (EPIPE): an error event, heard, not thrown.
    expect(() => destination.write("one\n")).not.toThrow();
    expect(() => destination.write("two\n")).not.toThrow();
  });
});
