import { describe, expect, it } from "vitest";
import type { Run } from "../records.js";
import { ledgerRows } from "./ledger-rows.js";

const run = {
  id: "r1",
  agentId: "a1",
  userId: "u1",
  sessionId: "s1",
  surface: "api",
} as unknown as Run;

describe("ledger rows of a run's usage", () => {
  it("marks a cost the runtime did not report (a configured price) as an estimate", () => {
    const [estimated, reported] = ledgerRows(run, 1, "cursor", [
      { inputTokens: 1, outputTokens: 2, costUsd: 0.5, costEstimated: true },
      { model: "m", inputTokens: 3, outputTokens: 4, costUsd: 0.01 },
    ]);
    expect(estimated).toMatchObject({
      costUsd: 0.5,
      runtime: "cursor",
      metadata: { surface: "api", cost_estimate: true },
      dedupeKey: "run:r1:1:0",
    });
    expect(reported?.metadata).toEqual({ surface: "api" });
  });
});
