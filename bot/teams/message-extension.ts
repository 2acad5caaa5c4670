import { agentObject, type UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { Agent } from "../../directory/index.js";
import { agentPageUrl, suggestAgents } from "../chat/index.js";
import { agentCard, askAgentCard, cardAttachment } from "./agent-cards.js";
import type { TeamsDeps } from "./teams-deps.js";
import type { TeamsPerson } from "./teams-identities.js";
import { plainFromTeams } from "./teams-text.js";

/** The manifest's command ids (app-package.ts declares them). */
export const SEARCH_COMMAND = "searchAgents";
export const ASK_COMMAND = "askAgent";

const RESULTS = 10;

/** An agent as a message extension result: its card, and a preview for the result list. */
async function agentResult(deps: TeamsDeps, principal: UserPrincipal, agent: Agent) {
  // As the core's agent cards decide it: an enabled agent the person may run.
  const mayRun =
    agent.state === "enabled" && (await deps.directory.permissions(principal, agent.name)).run;
  const card = agentCard(agent, mayRun, agentPageUrl(deps.publicUrl, agent.name));
  return {
    ...cardAttachment(card),
    preview: {
      contentType: "application/vnd.microsoft.card.thumbnail",
      content: { title: agent.title || agent.name, text: agent.description },
    },
  };
}

function results(attachments: unknown[]) {
  return { composeExtension: { type: "result", attachmentLayout: "list", attachments } };
}

function message(text: string) {
  return { composeExtension: { type: "message", text } };
}

/**
 * The message extension: search (the agents this person may view, as they type, through the
 * directory's access-checked search), link unfurling (the site's agent URLs, only for people
 * who may view the agent), and the "Ask an agent about this message" action. Every answer
 * comes from the person's own rights; invokes are answered at once (Teams waits 5 s), and a
 * run started from the action answers into the conversation later.
 */
export class MessageExtension {
  constructor(private readonly deps: TeamsDeps) {}

  async query(person: TeamsPerson, value: { parameters?: { name?: string; value?: unknown }[] }) {
    if ("refusal" in person) return message(person.refusal);
    const q = String(value.parameters?.find((p) => p.name !== "initialRun")?.value ?? "").trim();
    let page: Awaited<ReturnType<TeamsDeps["directory"]["list"]>>;
    try {
      page = await this.deps.directory.list(person.principal, {
        ...(q ? { q } : {}),
        limit: RESULTS,
      });
    } catch (error) {
      // A search the directory refuses (e.g. a character no field can hold) says why.
      if (isSwitchboardError(error) && error.status < 500) return message(error.message);
      throw error;
    }
    return results(
      await Promise.all(page.items.map((agent) => agentResult(this.deps, person.principal, agent))),
    );
  }

  async unfurl(person: TeamsPerson, url: string) {
    const name = this.agentNameOf(url);
    if (!name || "refusal" in person) return results([]);
    const agent = await this.deps.registry.find(name);
    const mayView =
      agent && (await this.deps.access.can(person.principal, "viewer", agentObject(name)));
    // An agent they may not view unfurls into nothing: its name and owner stay private.
    if (!agent || !mayView) return results([]);
    return results([await agentResult(this.deps, person.principal, agent)]);
  }

  /** The action command's task module: the agents this person may run, and a request box. */
  async openAsk(person: TeamsPerson, messageHtml: string) {
    if ("refusal" in person) return message(person.refusal);
    const text = plainFromTeams(messageHtml);
    const agents = await suggestAgents(this.deps, person.principal, text, { limit: 20 });
    if (agents.length === 0) return message("There is no agent you may run yet.");
    return {
      task: {
        type: "continue",
        value: {
          title: "Ask an agent",
          width: "medium",
          height: "medium",
          card: cardAttachment(askAgentCard(agents, text)),
        },
      },
    };
  }

  /** `PUBLIC_URL/agents/NAME` (on the site's own host), or undefined. */
  private agentNameOf(url: string): string | undefined {
    try {
      const site = new URL(this.deps.publicUrl);
      const link = new URL(url);
      if (link.host !== site.host) return undefined;
      const base = site.pathname.replace(/\/+$/, "");
      const match = new RegExp(
        `^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/agents/([^/?#]+)/?$`,
      ).exec(link.pathname);
      return match ? decodeURIComponent(match[1] as string) : undefined;
    } catch {
      return undefined;
    }
  }
}
