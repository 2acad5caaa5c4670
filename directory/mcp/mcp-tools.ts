import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Agent } from "../registry/index.js";

/** Most a description carries: enough for a model to pick the tool, not a whole manual. */
const MAX_DESCRIPTION_CHARS = 2_000;

/** What every agent's tool takes: one turn's request, and the session it continues. */
export const TOOL_INPUT_SCHEMA = {
  type: "object",
  properties: {
    request: {
      type: "string",
      description: "What to ask the agent, in words, as you would ask a colleague.",
    },
    session_id: {
      type: "string",
      description:
        "Continue a conversation: the session_id a previous call of this tool answered with. Leave it out to start a new session.",
    },
  },
  required: ["request"],
  additionalProperties: false,
} as const;

/** What a call answers besides its text, for clients that read structured results. */
export const TOOL_OUTPUT_SCHEMA = {
  type: "object",
  properties: {
    answer: { type: "string" },
    session_id: { type: "string" },
    session_url: { type: "string" },
    run_id: { type: "string" },
    cost_usd: { type: "number" },
  },
  required: ["answer", "session_id", "session_url", "run_id"],
} as const;

/**
 * The tool's name is the agent's: agent names are slugs (`[a-z0-9-]`, at most 63), which
 * are valid MCP tool names as they are, unique, and stable for the agent's life.
 */
export function toolName(agent: Pick<Agent, "name">): string {
  return agent.name;
}

function describe(agent: Agent): string {
  const lines = [agent.description || agent.title];
  const skills = agent.manifest.spec.skills;
  if (skills.length > 0) {
    lines.push("", "Skills:");
    for (const skill of skills) {
      lines.push(`- ${skill.name}${skill.description ? `: ${skill.description}` : ""}`);
      for (const example of skill.examples.slice(0, 3)) lines.push(`  e.g. "${example}"`);
    }
  }
  lines.push(
    "",
    "Answers with the agent's reply and a session_id; pass that session_id to continue the conversation.",
  );
  const text = lines.join("\n");
  return text.length > MAX_DESCRIPTION_CHARS
    ? `${text.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`
    : text;
}

/** One agent the person may run, as an MCP tool. */
export function agentTool(agent: Agent): Tool {
  return {
    name: toolName(agent),
    title: agent.title,
    description: describe(agent),
    inputSchema: TOOL_INPUT_SCHEMA as unknown as Tool["inputSchema"],
    outputSchema: TOOL_OUTPUT_SCHEMA as unknown as Tool["outputSchema"],
    annotations: { title: agent.title, readOnlyHint: false, openWorldHint: true },
  };
}
