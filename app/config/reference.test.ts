import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configReferenceTable } from "./index.js";

describe("the README's configuration reference", () => {
  it("is the table made from the schema (run `npm run docs` to refresh it)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = /<!-- config:start[^>]*-->\n([\s\S]*?)\n<!-- config:end -->/.exec(readme);
    expect(block, "README.md lacks the config:start / config:end markers").not.toBeNull();
    expect(block?.[1]).toBe(configReferenceTable());
  });
});
