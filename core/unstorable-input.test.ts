import { describe, expect, it } from "vitest";
import { findUnstorableInput, MAX_INPUT_DEPTH, unstorableTextProblem } from "./unstorable-input.js";

describe("findUnstorableInput", () => {
  it("passes ordinary JSON", () => {
    expect(findUnstorableInput({ a: [1, "two", { three: null }], b: true })).toBeUndefined();
  });

  it("finds a NUL in a value or in a field name, with its path", () => {
    expect(findUnstorableInput({ spec: { tags: ["ok", "b\u0000d"] } })?.path).toBe("spec.tags[1]");
    expect(findUnstorableInput({ spec: { "k\u0000": 1 } })).toMatchObject({
      path: "spec",
      problem: expect.stringContaining("field name"),
    });
  });

  it("takes nesting up to the limit and refuses one level more, without recursing", () => {
    const nest = (depth: number) => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
    expect(findUnstorableInput(nest(MAX_INPUT_DEPTH))).toBeUndefined();
    expect(findUnstorableInput(nest(MAX_INPUT_DEPTH + 1))?.problem).toMatch(/nested more than/);
    expect(findUnstorableInput(nest(100_000))?.problem).toMatch(/nested more than/);
  });

  it("finds half of a surrogate pair on its own, in a value or a field name, and passes whole pairs", () => {
    expect(findUnstorableInput({ metadata: { title: "P\udc00" } })).toMatchObject({
      path: "metadata.title",
      problem:
        "contains half of a UTF-16 surrogate pair (\\udc00) on its own, which is not a character",
    });
    expect(findUnstorableInput({ input: "a\ud800b" })?.problem).toContain("\\ud800");
    expect(findUnstorableInput({ input: "end\ud83d" })?.path).toBe("input");
    expect(findUnstorableInput({ "k\udfff": 1 })?.problem).toMatch(
      /^has a field name that contains half/,
    );
    expect(findUnstorableInput({ input: "😀 \ud83d\ude00 \u{10ffff}" })).toBeUndefined();
  });

  it("says what is wrong with one text in words", () => {
    expect(unstorableTextProblem("fine")).toBeUndefined();
    expect(unstorableTextProblem("a\u0000")).toMatch(/NUL character/);
    expect(unstorableTextProblem("\ud800\ud800\udc00")).toMatch(/\\ud800/);
  });
});
