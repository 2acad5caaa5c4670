/**
 * Registers one vitest test per conformance case, so a failure names its case. Used for the
 * embedded evaluator and for a real OpenFGA server alike (`target` is resolved lazily so a
 * server can be started in a beforeAll).
 */

import { describe, expect, it } from "vitest";
import { formatCase } from "./report.js";
import { runConformanceCase } from "./runner.js";
import type { ConformanceFile } from "./suite.js";
import type { ConformanceTarget } from "./target.js";

export function describeConformanceFile(
  title: string,
  file: ConformanceFile,
  target: () => ConformanceTarget,
): void {
  describe(title, () => {
    const seen = new Map<string, number>();
    for (const testCase of file.cases) {
      const count = (seen.get(testCase.name) ?? 0) + 1;
      seen.set(testCase.name, count);
      const name = count > 1 ? `${testCase.name} (#${count})` : testCase.name;
      it(name, async (context) => {
        const result = await runConformanceCase(target(), testCase);
        const skips = result.assertions.filter((each) => each.status === "skipped");
        if (skips.length > 0) console.log(formatCase(result).join("\n"));
        const failures = result.assertions.filter((each) => each.status === "failed");
        expect(failures, formatCase(result).join("\n")).toEqual([]);
        if (result.status === "skipped") context.skip(skips[0]?.reason);
      });
    }
  });
}
