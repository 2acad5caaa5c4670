import type { LedgerEntry } from "../../governance/index.js";
import type { RuntimeUsage } from "../../runtimes/index.js";
import type { Run } from "../records.js";

/**
 * The ledger entries of a run's usage as its runtime reported it: one per model, keyed so
 * that a closing transaction written twice (a retry after a lost reply) counts once.
 * Governance books them (and the proxy's calls made with the run's key) to the run.
 */
export function ledgerRows(
  run: Run,
  attempt: number,
  runtime: string | null,
  usage: readonly RuntimeUsage[],
): LedgerEntry[] {
  const occurredAt = new Date();
  return usage.map((entry, index) => ({
    occurredAt,
    source: "runtime",
    agentId: run.agentId,
    runtime,
    model: entry.model ?? null,
    userId: run.userId,
    teamId: null,
    runId: run.id,
    sessionId: run.sessionId,
    apiKeyId: null,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    cacheReadTokens: entry.cacheReadTokens ?? 0,
    cacheWriteTokens: entry.cacheWriteTokens ?? 0,
    costUsd: entry.costUsd ?? 0,
    dedupeKey: `run:${run.id}:${attempt}:${index}`,
    // An estimated cost (a configured price per run) is marked, never passed off as billed.
    metadata: { surface: run.surface, ...(entry.costEstimated ? { cost_estimate: true } : {}) },
  }));
}
