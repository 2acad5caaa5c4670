import { createHash } from "node:crypto";
import pg from "pg";
import { type JsonBody, readJson } from "./http.js";

/**
 * What a test needs to check a run's model proxy spend from outside: a model call made the
 * way an agent makes one (its key, the OpenAI wire API), and the ledger rows it booked, read
 * with a read-only SQL session (the ledger's owner, governance, is the only writer).
 */

/** POST /v1/chat/completions through the proxy with `key`; the status and the JSON answer. */
export async function chatThroughProxy(
  proxyUrl: string,
  key: string,
  content: string,
): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "small", messages: [{ role: "user", content }] }),
  });
  return { status: response.status, body: await readJson(response) };
}

/** One ledger row as booked, with the hash of the key it was booked to. */
export interface BookedRow {
  source: string;
  runId: string | null;
  sessionId: string | null;
  agentName: string | null;
  userEmail: string | null;
  model: string | null;
  keyHash: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The calls the row stands for (the proxy adds a key's calls up between two writes). */
  calls: number | undefined;
}

/** The stored form of a proxy key: its SHA-256 (only hashes are kept). */
export function keyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * Every ledger row (of every source, the run's or not), oldest first, named as a person
 * would: agent by name, person by email. A session that cannot write, so the test only looks.
 */
export async function ledgerRows(databaseUrl: string): Promise<BookedRow[]> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    options: "-c default_transaction_read_only=on",
  });
  await client.connect();
  try {
    const { rows } = await client.query(`
      select l.source, l.run_id, l.session_id, a.name as agent_name, u.email as user_email,
             l.model, k.key_hash, l.input_tokens, l.output_tokens, l.cost_usd, l.metadata
        from ledger l
        left join agents a on a.id = l.agent_id
        left join users u on u.id = l.user_id
        left join api_keys k on k.id = l.api_key_id
       order by l.id`);
    return rows.map((row) => ({
      source: row.source,
      runId: row.run_id,
      sessionId: row.session_id,
      agentName: row.agent_name,
      userEmail: row.user_email,
      model: row.model,
      keyHash: row.key_hash,
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      calls: row.metadata?.calls,
    }));
  } finally {
    await client.end();
  }
}

/** Calls and tokens booked per key (`keys`: a label for each secret), whatever rows hold them. */
export function bookedPerKey(
  rows: readonly BookedRow[],
  keys: Record<string, string>,
): Record<string, { calls: number; inputTokens: number; outputTokens: number }> {
  const totals: Record<string, { calls: number; inputTokens: number; outputTokens: number }> = {};
  for (const [label, key] of Object.entries(keys)) {
    const own = rows.filter((row) => row.keyHash === keyHash(key));
    totals[label] = {
      // A row without its count of calls is a fault in itself: NaN fails any comparison.
      calls: own.reduce((sum, row) => sum + (row.calls ?? Number.NaN), 0),
      inputTokens: own.reduce((sum, row) => sum + row.inputTokens, 0),
      outputTokens: own.reduce((sum, row) => sum + row.outputTokens, 0),
    };
  }
  return totals;
}
