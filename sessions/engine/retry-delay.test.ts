import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./run-executor.js";

describe("retryDelayMs", () => {
  it("doubles the backoff for each failed attempt", () => {
    expect([1, 2, 3].map((attempt) => retryDelayMs(1_000, attempt))).toEqual([1_000, 2_000, 4_000]);
  });

  it("waits at most five minutes, however large the backoff or the attempt", () => {
    expect(retryDelayMs(1_000, 20)).toBe(300_000);
    expect(retryDelayMs(2_147_483_647, 20)).toBe(300_000);
  });
});
