import type { AgentManifest, Lifecycle } from "../manifest/index.js";

export const AGENT_STATES = ["enabled", "suspended", "disabled"] as const;
/**
 * enabled: listed and runnable. suspended: listed with a notice, cannot run. disabled: out
 * of the catalog (unless asked for by state) and cannot run; its page still answers.
 */
export type AgentState = (typeof AGENT_STATES)[number];

/** An agent as the registry holds it. */
export interface Agent {
  id: string;
  name: string;
  title: string;
  description: string;
  /** `team:SLUG` or `user:EMAIL`. */
  owner: string;
  runtimeType: string;
  lifecycle: Lifecycle;
  state: AgentState;
  stateReason: string | null;
  /** Marked by platform admins: offered in chat by name to everyone who may run it. */
  featured: boolean;
  tags: string[];
  manifest: AgentManifest;
  manifestDigest: string;
  createdAt: Date;
  updatedAt: Date;
  retiredAt: Date | null;
}

export interface AgentRow {
  id: string;
  name: string;
  title: string;
  description: string;
  owner: string;
  runtime_type: string;
  lifecycle: string;
  state: string;
  state_reason: string | null;
  featured: boolean;
  tags: string[];
  manifest: AgentManifest;
  manifest_digest: string;
  created_at: Date;
  updated_at: Date;
  retired_at: Date | null;
}

export function agentFromRow(row: AgentRow): Agent {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    description: row.description,
    owner: row.owner,
    runtimeType: row.runtime_type,
    lifecycle: row.lifecycle as Lifecycle,
    state: row.state as AgentState,
    stateReason: row.state_reason,
    featured: row.featured,
    tags: row.tags,
    manifest: row.manifest,
    manifestDigest: row.manifest_digest,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    retiredAt: row.retired_at,
  };
}

/** The columns a manifest decides (jsonb values as JSON text: pg would send arrays as SQL arrays). */
export function columnsOf(manifest: AgentManifest, digest: string) {
  const { metadata, spec } = manifest;
  return {
    name: metadata.name,
    title: metadata.title,
    description: metadata.description,
    owner: metadata.owner,
    runtime_type: spec.runtime.type,
    lifecycle: metadata.lifecycle,
    tags: JSON.stringify(metadata.tags),
    manifest: JSON.stringify(manifest),
    manifest_digest: digest,
  };
}
