import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { QuietGate } from "./quiet-gate.js";

describe("QuietGate", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds work while requests keep coming, and lets it all go once they pause", () => {
    const gate = new QuietGate(5, 250);
    const done: number[] = [];
    for (let i = 0; i < 10; i++) {
      gate.arrived();
      gate.defer(() => done.push(i));
      vi.advanceTimersByTime(2);
    }
    expect(done).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("lets work go after the longest hold under a steady stream", () => {
    const gate = new QuietGate(5, 50);
    const done: number[] = [];
    gate.arrived();
    gate.defer(() => done.push(1));
    for (let elapsed = 0; elapsed < 49; elapsed += 2) {
      gate.arrived();
      vi.advanceTimersByTime(2);
    }
    expect(done).toEqual([]);
    vi.advanceTimersByTime(4);
    expect(done).toEqual([1]);
  });

  it("runs what it holds at once when flushed", () => {
    const gate = new QuietGate(5, 250);
    const done: string[] = [];
    gate.arrived();
    gate.defer(() => done.push("held"));
    gate.flush();
    expect(done).toEqual(["held"]);
    vi.advanceTimersByTime(500);
    expect(done).toEqual(["held"]);
  });
});
