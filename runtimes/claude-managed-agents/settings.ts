import { z } from "zod";
import { secretReference } from "../secrets.js";

/**
 * `spec.runtime` for an agent that runs on Claude Managed Agents. The agent and the
 * environment are made once, in the Claude Console or by the owner's own tooling, and named
 * here: Switchboard only opens sessions on them, it never creates or edits an agent.
 */
export const claudeManagedAgentsSettings = z.strictObject({
  type: z.literal("claude-managed-agents"),
  /** The Managed Agents agent: its id (`agent_…`) or its exact name. */
  agent: z
    .string({ error: "must be the agent's id (agent_…) or its name in Claude Managed Agents" })
    .trim()
    .min(1, "must be the agent's id (agent_…) or its name in Claude Managed Agents"),
  /** The environment sessions run in: its id (`env_…`) or its exact name. */
  environment: z
    .string({ error: "must be the environment's id (env_…) or its name in Claude Managed Agents" })
    .trim()
    .min(1, "must be the environment's id (env_…) or its name in Claude Managed Agents"),
  /** The Anthropic API key, as a reference such as { env: ANTHROPIC_API_KEY }; never the key. */
  api_key: z.union(secretReference.options, {
    error: "must be a reference such as { env: ANTHROPIC_API_KEY }, never the key itself",
  }),
  /** Another API address (a proxy, a regional gateway); the SDK's default when absent. */
  base_url: z
    .url({
      protocol: /^https?$/,
      error: "must be an http(s) URL such as https://api.anthropic.com",
    })
    .optional(),
  /** Pins the agent's version; the agent's latest version when absent. */
  agent_version: z
    .number({ error: "must be a whole number, 1 or more" })
    .int("must be a whole number, 1 or more")
    .min(1, "must be a whole number, 1 or more")
    .optional(),
});

export type ClaudeManagedAgentsSettings = z.output<typeof claudeManagedAgentsSettings>;
