import type { AgentCard, AgentSkill } from "@a2a-js/sdk";
import type { Agent } from "../registry/index.js";

/** Where the A2A endpoints are mounted: `/a2a/{agent}` and its card below it. */
export const A2A_BASE = "/a2a";
/** The card's path under an agent's A2A URL, as A2A clients look for it. */
export const AGENT_CARD_PATH = ".well-known/agent-card.json";
/** The name of the one security scheme the card declares. */
export const BEARER_SCHEME = "switchboardApiKey";

/** Protocol versions served on the one JSON-RPC URL (the SDK routes 0.3 by `A2A-Version`). */
const PROTOCOL_VERSIONS = ["1.0", "0.3"] as const;

const trimmed = (base: string) => base.replace(/\/+$/, "");

/** An agent's JSON-RPC URL: `https://switchboard.example.com/a2a/helpdesk`. */
export function a2aUrl(publicUrl: string, agentName: string): string {
  return `${trimmed(publicUrl)}${A2A_BASE}/${encodeURIComponent(agentName)}`;
}

/** An agent's card: what `GET /api/v1/agents` and the site point A2A clients to. */
export function a2aCardUrl(publicUrl: string, agentName: string): string {
  return `${a2aUrl(publicUrl, agentName)}/${AGENT_CARD_PATH}`;
}

/** A skill id from its name: lower-case words joined by dashes ("Triage tickets" → "triage-tickets"). */
function skillId(name: string, index: number): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return slug || `skill-${index + 1}`;
}

function skillsOf(agent: Agent): AgentSkill[] {
  const skills = agent.manifest.spec.skills;
  const base = { inputModes: [], outputModes: [], securityRequirements: [], tags: agent.tags };
  if (skills.length === 0) {
    // A card needs a skill to be useful to a client choosing agents: the agent as a whole.
    return [
      { ...base, id: agent.name, name: agent.title, description: agent.description, examples: [] },
    ];
  }
  return skills.map((skill, index) => ({
    ...base,
    id: skillId(skill.name, index),
    name: skill.name,
    description: skill.description ?? "",
    examples: skill.examples,
  }));
}

/**
 * The agent as A2A clients see it (protocol 1.0 shape; the SDK derives the 0.3 card from it):
 * its manifest's name, description and skills, streaming, one JSON-RPC URL for both protocol
 * versions, and the one way in, a Switchboard API key as an HTTP bearer token.
 */
export function agentCard(agent: Agent, publicUrl: string): AgentCard {
  const url = a2aUrl(publicUrl, agent.name);
  return {
    name: agent.title,
    description: agent.description || `${agent.title}, an agent in the Switchboard directory.`,
    supportedInterfaces: PROTOCOL_VERSIONS.map((protocolVersion) => ({
      url,
      protocolBinding: "JSONRPC",
      protocolVersion,
      tenant: "",
    })),
    provider: { organization: "Switchboard", url: trimmed(publicUrl) },
    // The manifest's digest changes whenever the manifest does: a client caching the card sees it.
    version: agent.manifestDigest.slice(0, 12),
    documentationUrl: `${trimmed(publicUrl)}/agents/${encodeURIComponent(agent.name)}`,
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {
      [BEARER_SCHEME]: {
        scheme: {
          $case: "httpAuthSecurityScheme",
          value: {
            scheme: "Bearer",
            bearerFormat: "",
            description:
              "A Switchboard API key of the person the agent acts for (`switchboard keys create`).",
          },
        },
      },
    },
    securityRequirements: [{ schemes: { [BEARER_SCHEME]: { list: [] } } }],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: skillsOf(agent),
    signatures: [],
  };
}
