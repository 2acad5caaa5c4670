import type { z } from "zod";
import { a2aCardUrl } from "../a2a/index.js";
import type { Agent, AgentPermissions } from "../registry/index.js";
import type { agentDetail, agentSummary } from "./schemas.js";

/**
 * Agents as the API shows them: snake_case, times as ISO strings, and where A2A clients find
 * them (`publicUrl`: this Switchboard's address; without it the card's path alone).
 */

export function presentSummary(agent: Agent, publicUrl = ""): z.infer<typeof agentSummary> {
  return {
    name: agent.name,
    title: agent.title,
    description: agent.description,
    owner: agent.owner,
    runtime: agent.runtimeType,
    lifecycle: agent.lifecycle,
    state: agent.state,
    state_reason: agent.stateReason,
    featured: agent.featured,
    tags: agent.tags,
    icon: agent.manifest.metadata.icon ?? null,
    a2a_card_url: a2aCardUrl(publicUrl, agent.name),
    updated_at: agent.updatedAt.toISOString(),
  };
}

export function presentDetail(
  agent: Agent,
  permissions: AgentPermissions,
  publicUrl = "",
): z.infer<typeof agentDetail> {
  const { metadata, spec } = agent.manifest;
  return {
    ...presentSummary(agent, publicUrl),
    skills: spec.skills,
    links: metadata.links,
    contacts: metadata.contacts,
    access: spec.access,
    limits: spec.limits ?? null,
    manifest: agent.manifest as unknown as Record<string, unknown>,
    manifest_digest: agent.manifestDigest,
    created_at: agent.createdAt.toISOString(),
    permissions,
  };
}
