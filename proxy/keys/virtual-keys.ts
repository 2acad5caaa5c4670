import { createHash, randomBytes } from "node:crypto";
import type { Knex } from "knex";

/** A virtual key as the proxy holds it in memory; the secret itself is never kept. */
export interface VirtualKey {
  /** The api_keys row id; null for the config's master key. */
  id: string | null;
  userId: string | null;
  teamId: string | null;
  agentId: string | null;
  runId: string | null;
  sessionId: string | null;
  /** Model groups the key may call; null: every one. */
  allowedModels: string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetUsd: number | null;
  expiresAt: number | null;
  revoked: boolean;
  /** Spend recorded against the key so far (the ledger's sum plus this process's since). */
  spentUsd: number;
  /** A spent hard or approval budget that covers the key's person, agent or team, in words. */
  budgetBlocked?: string | undefined;
}

export interface IssueKeyRequest {
  name?: string;
  userId?: string;
  teamId?: string;
  agentId?: string;
  runId?: string;
  sessionId?: string;
  allowedModels?: string[];
  rpmLimit?: number;
  tpmLimit?: number;
  budgetUsd?: number;
  /** Short-lived keys for one run expire; user and team keys usually do not. */
  expiresAt?: Date;
}

export interface IssuedKey {
  id: string;
  /** The secret: shown once, stored only as a hash. */
  key: string;
  prefix: string;
}

const KEY_PREFIX = "sk-sb-";

/** SHA-256 is enough: keys are 256 random bits, so there is nothing to brute-force. */
export function hashKey(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export async function issueProxyKey(knex: Knex, request: IssueKeyRequest): Promise<IssuedKey> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const prefix = key.slice(0, KEY_PREFIX.length + 6);
  const [row] = (await knex("api_keys")
    .insert({
      kind: "proxy",
      name: request.name ?? null,
      prefix,
      key_hash: hashKey(key),
      user_id: request.userId ?? null,
      team_id: request.teamId ?? null,
      agent_id: request.agentId ?? null,
      run_id: request.runId ?? null,
      session_id: request.sessionId ?? null,
      allowed_models: request.allowedModels ? JSON.stringify(request.allowedModels) : null,
      rpm_limit: request.rpmLimit ?? null,
      tpm_limit: request.tpmLimit ?? null,
      budget_usd: request.budgetUsd ?? null,
      expires_at: request.expiresAt ?? null,
    })
    .returning("id")) as { id: string }[];
  if (!row) throw new Error("api_keys insert returned no id");
  return { id: row.id, key, prefix };
}

/** Marks a key revoked; proxies drop it from their caches on their next refresh. */
export async function revokeProxyKey(knex: Knex, id: string): Promise<void> {
  await knex("api_keys").where({ id, kind: "proxy" }).update({ revoked_at: knex.fn.now() });
}

/**
 * Revokes every key of a run that is still live: those an attempt left behind when its
 * worker died before it could revoke its own. Answers how many were revoked.
 */
export async function revokeRunKeys(knex: Knex, runId: string): Promise<number> {
  return knex("api_keys")
    .where({ run_id: runId, kind: "proxy" })
    .whereNull("revoked_at")
    .update({ revoked_at: knex.fn.now() });
}

export interface ApiKeyRow {
  id: string;
  user_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  session_id: string | null;
  allowed_models: string[] | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_usd: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export const KEY_COLUMNS = [
  "id",
  "user_id",
  "team_id",
  "agent_id",
  "run_id",
  "session_id",
  "allowed_models",
  "rpm_limit",
  "tpm_limit",
  "budget_usd",
  "expires_at",
  "revoked_at",
] as const;

export function toVirtualKey(row: ApiKeyRow, spentUsd: number): VirtualKey {
  return {
    id: row.id,
    userId: row.user_id,
    teamId: row.team_id,
    agentId: row.agent_id,
    runId: row.run_id,
    sessionId: row.session_id,
    allowedModels: row.allowed_models,
    rpmLimit: row.rpm_limit,
    tpmLimit: row.tpm_limit,
    budgetUsd: row.budget_usd === null ? null : Number(row.budget_usd),
    expiresAt: row.expires_at ? row.expires_at.getTime() : null,
    revoked: row.revoked_at !== null,
    spentUsd,
  };
}

export function masterKey(): VirtualKey {
  return {
    id: null,
    userId: null,
    teamId: null,
    agentId: null,
    runId: null,
    sessionId: null,
    allowedModels: null,
    rpmLimit: null,
    tpmLimit: null,
    budgetUsd: null,
    expiresAt: null,
    revoked: false,
    spentUsd: 0,
  };
}
