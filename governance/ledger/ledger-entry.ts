/** One cost record, as the runs engine or the proxy reports it. */
export interface LedgerEntry {
  occurredAt: Date;
  source: "runtime" | "proxy";
  agentId: string | null;
  runtime: string | null;
  model: string | null;
  userId: string | null;
  teamId: string | null;
  runId: string | null;
  sessionId: string | null;
  apiKeyId: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** Unique per event, so a batch written twice after a lost reply counts once. */
  dedupeKey: string;
  metadata: Record<string, unknown>;
}
