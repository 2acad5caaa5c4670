import type { Agent } from "../../registry/index.js";
import { type Html, html } from "../html.js";

export function lifecycleBadge(lifecycle: string): Html {
  return html`<span class="badge badge-${lifecycle}">${lifecycle}</span>`;
}

/** The notice for an agent that is listed but may not run (or, for admins, is disabled). */
export function stateNotice(agent: Agent): Html | undefined {
  if (agent.state === "enabled") return undefined;
  const what = agent.state === "suspended" ? "Suspended" : "Disabled";
  return html`<p class="notice notice-${agent.state}" role="status"><strong>${what}:</strong> this agent cannot run right now${agent.stateReason ? html` — ${agent.stateReason}` : "."}</p>`;
}

/** An emoji icon, or the first letter of the title when there is none (image URLs too: no remote fetches). */
export function agentIcon(agent: Agent): Html {
  const icon = agent.manifest.metadata.icon;
  const glyph = icon && !/^https?:/.test(icon) ? icon : agent.title.slice(0, 1).toUpperCase();
  return html`<span class="agent-icon" aria-hidden="true">${glyph}</span>`;
}
