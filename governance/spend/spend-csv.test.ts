import { describe, expect, it } from "vitest";
import { csvCell, spendCsv } from "./spend-csv.js";

describe("spend CSV", () => {
  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ["+1+2", "'+1+2"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["\r=1", `"'\r=1"`],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["line\nbreak", '"line\nbreak"'],
    ["support", "support"],
    ["ada@example.com", "ada@example.com"],
  ])("writes %j as %j", (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it("writes numbers as they are and nothing for none", () => {
    expect(csvCell(0.125)).toBe("0.125");
    expect(csvCell(null)).toBe("");
  });

  it("lists the groups, the total, then every day", () => {
    const text = spendCsv({
      group_by: "model",
      from: "2026-11-01",
      to: "2026-11-02",
      visibility: "all",
      total_usd: 1.5,
      estimated_usd: 0.25,
      runs: 2,
      items: [
        { key: "=cmd|' /C calc'!A0", cost_usd: 1, runs: 1, estimated_usd: 0.25 },
        { key: null, cost_usd: 0.5, runs: 1, estimated_usd: 0 },
      ],
      days: [
        { day: "2026-11-01", cost_usd: 1.5, runs: 2 },
        { day: "2026-11-02", cost_usd: 0, runs: 0 },
      ],
    });
    expect(text.split("\r\n")).toEqual([
      "model,cost_usd,runs,estimated_usd",
      "'=cmd|' /C calc'!A0,1,1,0.25",
      "(none),0.5,1,0",
      "total,1.5,2,0.25",
      "",
      "day,cost_usd,runs",
      "2026-11-01,1.5,2",
      "2026-11-02,0,0",
      "",
    ]);
  });
});
