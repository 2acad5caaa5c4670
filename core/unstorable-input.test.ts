import { describe, expect, it } from "vitest";
import { findUnstorableInput, MAX_INPUT_DEPTH } from "./unstorable-input.js";

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
});
