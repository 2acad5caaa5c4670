import type { RuntimeUsage } from "../../runtimes/index.js";
import type { Run } from "../records.js";

/**
 * The ledger entries of a run's usage: one per model, keyed so that a closing transaction
 * written twice (a retry after a lost reply) counts once.
 */
export function ledgerRows(
  run: Run,
  attempt: number,
  runtime: string | null,
  usage: readonly RuntimeUsage[],
): Record<string, unknown>[] {
  return usage.map((entry, index) => ({
    source: "runtime",
    agent_id: run.agentId,
    runtime,
    model: entry.model ?? null,
    user_id: run.userId,
    run_id: run.id,
    session_id: run.sessionId,
    input_tokens: entry.inputTokens,
    output_tokens: entry.outputTokens,
    cache_read_tokens: entry.cacheReadTokens ?? 0,
    cache_write_tokens: entry.cacheWriteTokens ?? 0,
    cost_usd: entry.costUsd ?? 0,
    dedupe_key: `run:${run.id}:${attempt}:${index}`,
    metadata: JSON.stringify({ surface: run.surface }),
  }));
}
