import { describe, expect, it } from "vitest";
import { EXCERPT_LENGTH, excerpt } from "./excerpt.js";

describe("excerpt", () => {
  it("keeps short text as it is, on one line", () => {
    expect(excerpt("  the database\nis down\t(again)  ")).toBe("the database is down (again)");
  });

  it("cuts long text to the limit, ending with an ellipsis", () => {
    const cut = excerpt("x".repeat(100_000));
    expect(cut).toHaveLength(EXCERPT_LENGTH);
    expect(cut.endsWith("…")).toBe(true);
    expect(excerpt("abcdef", 4)).toBe("abc…");
  });

  it("removes control, direction and zero-width characters", () => {
    const text = "ok\u0000\u001b[31mred\u007f\u0085\u202eevil\u2066\u200bend\ufeff";
    expect(excerpt(text)).toBe("ok [31mred evil end");
  });

  it("never ends on half of a surrogate pair", () => {
    const cut = excerpt(`${"a".repeat(EXCERPT_LENGTH - 2)}😀😀😀`);
    expect(cut).toBe(`${"a".repeat(EXCERPT_LENGTH - 2)}…`);
  });
});
