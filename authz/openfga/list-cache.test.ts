import { describe, expect, it } from "vitest";
import { ListObjectsCache } from "./list-cache.js";

/** The list-objects cache on a clock the test moves. */

function setup(options: { ttlMs?: number; maxEntries?: number; maxObjects?: number } = {}) {
  let now = 0;
  const cache = new ListObjectsCache({ ttlMs: 1_000, ...options, now: () => now });
  const asked: string[] = [];
  const answers = new Map<string, string[]>();
  const ask = (key: string) => async () => {
    asked.push(key);
    return answers.get(key) ?? [];
  };
  return {
    cache,
    asked,
    answers,
    ask,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("ListObjectsCache", () => {
  it("answers from memory until the entry is ttl old, then asks again", async () => {
    const { cache, asked, answers, ask, advance } = setup();
    answers.set("ada", ["agent:a"]);
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a"]);
    answers.set("ada", ["agent:a", "agent:b"]);
    advance(400);
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a"]);
    expect(asked).toEqual(["ada"]);
    advance(600); // 1,000 ms since it was asked: expired
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a", "agent:b"]);
    expect(asked).toEqual(["ada", "ada"]);
  });

  it("asks again in the background past half its life, still answering from memory", async () => {
    const { cache, asked, answers, ask, advance } = setup();
    answers.set("ada", ["agent:a"]);
    await cache.get("ada", ask("ada"));
    answers.set("ada", ["agent:b"]);
    advance(600);
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a"]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(asked).toEqual(["ada", "ada"]);
    advance(500); // the first answer has expired; the refreshed one (asked at 600) has not
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:b"]);
    expect(asked).toEqual(["ada", "ada"]);
  });

  it("forgets everything on invalidate, including an answer asked for before it", async () => {
    const { cache, answers, ask } = setup();
    answers.set("ada", ["agent:a"]);
    await cache.get("ada", ask("ada"));
    let release: (objects: string[]) => void = () => {};
    const slow = cache.get("bob", () => new Promise<string[]>((resolve) => (release = resolve)));
    cache.invalidate(); // e.g. a revoke written while bob's list was on its way
    release(["agent:old"]);
    expect(await slow).toEqual(["agent:old"]); // bob's own request gets what it asked for…
    expect(cache.size).toBe(0); // …but it is not kept, and ada's is gone
    answers.set("bob", ["agent:new"]);
    expect(await cache.get("bob", ask("bob"))).toEqual(["agent:new"]);
  });

  it("asks once for concurrent requests of one key", async () => {
    const { cache, asked, answers, ask } = setup();
    answers.set("ada", ["agent:a"]);
    const both = await Promise.all([cache.get("ada", ask("ada")), cache.get("ada", ask("ada"))]);
    expect(both).toEqual([["agent:a"], ["agent:a"]]);
    expect(asked).toEqual(["ada"]);
  });

  it("keeps no failure: the next request asks again", async () => {
    const { cache, answers, ask } = setup();
    await expect(
      cache.get("ada", async () => {
        throw new Error("OpenFGA is down");
      }),
    ).rejects.toThrow("OpenFGA is down");
    answers.set("ada", ["agent:a"]);
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a"]);
  });

  it("stays within its entry and object bounds, dropping the least recently used", async () => {
    const { cache, asked, answers, ask } = setup({ maxEntries: 2, maxObjects: 3 });
    answers.set("a", ["agent:1"]);
    answers.set("b", ["agent:2"]);
    answers.set("c", ["agent:3", "agent:4"]);
    answers.set("huge", ["agent:1", "agent:2", "agent:3", "agent:4"]);
    await cache.get("a", ask("a"));
    await cache.get("b", ask("b"));
    await cache.get("a", ask("a")); // a is now the most recently used
    await cache.get("c", ask("c")); // two entries at most: b goes
    expect(cache.size).toBe(2);
    await cache.get("a", ask("a"));
    expect(asked).toEqual(["a", "b", "c"]); // a was still kept
    // Three objects at most: a (1) + c (2) fit; the huge answer is returned but never kept.
    expect(await cache.get("huge", ask("huge"))).toHaveLength(4);
    expect(cache.size).toBe(2);
  });

  it("hands out copies, so a caller cannot change what others are answered", async () => {
    const { cache, answers, ask } = setup();
    answers.set("ada", ["agent:a"]);
    (await cache.get("ada", ask("ada"))).push("agent:injected");
    expect(await cache.get("ada", ask("ada"))).toEqual(["agent:a"]);
  });
});
