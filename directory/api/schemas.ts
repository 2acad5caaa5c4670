import { z } from "zod";
import { agentName, LIFECYCLES } from "../manifest/index.js";
import { AGENT_STATES } from "../registry/index.js";

/**
 * The REST API's wire shapes (snake_case), in zod: the routes validate with them and the
 * OpenAPI document is made from them.
 */

const timestamp = z.string().describe("ISO 8601 date and time, UTC");

export const agentNameParams = z.object({ name: agentName.describe("The agent's slug") });

export const listAgentsQuery = z.object({
  q: z
    .string()
    .max(200)
    .optional()
    .describe("Words that must all appear in the name, title, description or tags"),
  owner: z.string().max(200).optional().describe("Only agents with this owner, e.g. team:support"),
  tag: z.string().max(100).optional().describe("Only agents with this tag"),
  runtime: z.string().max(100).optional().describe("Only agents on this runtime type, e.g. a2a"),
  lifecycle: z.enum(LIFECYCLES).optional(),
  state: z
    .enum(AGENT_STATES)
    .optional()
    .describe("Only agents in this state; default: enabled and suspended ones"),
  cursor: z.string().max(500).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  facets: z.stringbool().default(true).describe("Also count the values of each facet"),
});

const facetCounts = z.array(z.object({ value: z.string(), count: z.number().int() }));

export const agentSummary = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  owner: z.string().describe("team:SLUG or user:EMAIL"),
  runtime: z.string().describe("The runtime type"),
  lifecycle: z.enum(LIFECYCLES),
  state: z.enum(AGENT_STATES),
  state_reason: z.string().nullable(),
  featured: z
    .boolean()
    .describe(
      "Featured by platform admins: in chat, naming it picks it for everyone who may run it",
    ),
  tags: z.array(z.string()),
  icon: z.string().nullable(),
  a2a_card_url: z
    .string()
    .describe(
      "The agent's A2A card, for A2A clients (they send an API key as a bearer token); its JSON-RPC endpoint is this URL without /.well-known/agent-card.json",
    ),
  updated_at: timestamp,
});

export const agentDetail = agentSummary.extend({
  skills: z.array(
    z.object({ name: z.string(), description: z.string(), examples: z.array(z.string()) }),
  ),
  links: z.array(z.object({ title: z.string(), url: z.string() })),
  contacts: z.array(
    z.object({
      name: z.string().optional(),
      email: z.string().optional(),
      slack: z.string().optional(),
    }),
  ),
  access: z.object({ view: z.array(z.string()), run: z.array(z.string()) }),
  limits: z
    .object({
      max_cost_usd_per_run: z.number().optional(),
      timeout_seconds: z.number().optional(),
    })
    .nullable(),
  manifest: z.record(z.string(), z.unknown()).describe("The manifest as applied"),
  manifest_digest: z.string(),
  created_at: timestamp,
  permissions: z
    .object({ run: z.boolean(), edit: z.boolean(), own: z.boolean() })
    .describe("What the caller may do with this agent"),
});

export const agentList = z.object({
  items: z.array(agentSummary),
  next_cursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last"),
  facets: z
    .object({ owner: facetCounts, tag: facetCounts, runtime: facetCounts, lifecycle: facetCounts })
    .nullable(),
  mcp_url: z
    .string()
    .nullable()
    .describe(
      "The MCP server (Streamable HTTP) where each agent the caller may run is a tool named after it; authenticate with the same API key. Null where this Switchboard does not serve MCP.",
    ),
});

export const applyResponse = z.object({
  name: z.string(),
  outcome: z.enum(["created", "updated", "restored", "unchanged"]),
  changes: z.array(z.string()).describe("Fields that changed, e.g. metadata.title"),
  agent: agentDetail,
});

export const errorResponse = z.object({
  error: z.object({
    code: z.string().describe("Stable, for programs: e.g. not_found, invalid_manifest"),
    message: z.string().describe("For people"),
    details: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string(),
  }),
});

export const jsonDocument = z.record(z.string(), z.unknown());
