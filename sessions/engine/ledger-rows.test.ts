import { describe, expect, it } from "vitest";
import type { Run } from "../records.js";
import { ledgerRows } from "./ledger-rows.js";

describe("ledger rows of a run's usage", () => {
  const run = {
    id: "run-1",
    agentId: "agent-1",
    userId: "user-1",
    sessionId: "session-1",
    surface: "api",
  } as unknown as Run;

  it("marks a cost the runtime estimated (AgentCore compute) so spend views can say so", () => {
    const [reported, estimated] = ledgerRows(run, 1, "bedrock-agentcore", [
      { model: "claude", inputTokens: 10, outputTokens: 5, costUsd: 0.01 },
      {
        model: "agentcore-compute",
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0.02,
        estimated: true,
      },
    ]);
    expect(reported?.metadata).toEqual({ surface: "api" });
    expect(estimated).toMatchObject({
      model: "agentcore-compute",
      costUsd: 0.02,
      metadata: { surface: "api", estimated: true },
    });
  });
});
