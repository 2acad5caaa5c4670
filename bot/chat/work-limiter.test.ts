import { describe, expect, it } from "vitest";
import { WorkLimiter } from "./work-limiter.js";

/** A promise and its resolver, to hold work until the test lets it go. */
function held() {
  let release: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("WorkLimiter", () => {
  it("runs at most its limit at once, the rest in the order they came", async () => {
    const limiter = new WorkLimiter(2);
    const gate = held();
    const started: number[] = [];
    const done = [1, 2, 3, 4, 5].map((n) =>
      limiter.run(async () => {
        started.push(n);
        await gate.promise;
      }),
    );
    await tick();
    expect(started).toEqual([1, 2]);
    gate.release();
    await Promise.all(done);
    expect(started).toEqual([1, 2, 3, 4, 5]);
  });

  it("starts work in the order places were taken, whichever was handed over first", async () => {
    const limiter = new WorkLimiter(2);
    const started: string[] = [];
    const places = ["a", "b", "c", "d"].map((name) => ({ name, place: limiter.place() }));
    // Handed over in reverse, as when the later messages' first steps finish sooner.
    const done = [...places]
      .reverse()
      .map(({ name, place }) => place.run(async () => void started.push(name)));
    await Promise.all(done);
    expect(started).toEqual(["a", "b", "c", "d"]);
  });

  it("moves on past a place given up, and a place used then given up changes nothing", async () => {
    const limiter = new WorkLimiter(1);
    const started: string[] = [];
    const first = limiter.place();
    const second = limiter.place();
    const third = limiter.place();
    const waiting = third.run(async () => void started.push("third"));
    await tick();
    expect(started).toEqual([]); // the first two are still in line
    first.leave();
    await second.run(async () => void started.push("second"));
    second.leave();
    await waiting;
    expect(started).toEqual(["second", "third"]);
    await limiter.run(async () => void started.push("after"));
    expect(started).toEqual(["second", "third", "after"]);
  });

  it("frees the place of work that failed", async () => {
    const limiter = new WorkLimiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    await expect(limiter.run(async () => "next")).resolves.toBe("next");
  });
});
