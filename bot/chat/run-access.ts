import type { UserPrincipal } from "../../authz/index.js";
import { forbidden, SwitchboardError } from "../../core/index.js";
import type { Agent, AgentDirectory } from "../../directory/index.js";
import { requestAccessButton } from "./access-request-kinds.js";
import type { ChatOffer } from "./action-registry.js";
import { refusalText, requestAccessText } from "./wording.js";

/** The site's page of an agent, where people ask for access. */
export function agentPageUrl(publicUrl: string, agentName: string): string {
  return `${publicUrl}/agents/${encodeURIComponent(agentName)}`;
}

export interface RunAccessDeps {
  directory: AgentDirectory;
  publicUrl: string;
  /** Set when access requests are on: a refusal then offers "Request access" (see RunRefusal). */
  accessRequests?: unknown;
}

/**
 * A refusal in words (`refusal`: with the agent page's link, for places that cannot show a
 * button) and, when the person may see the agent but not run it and access requests are on,
 * the same refusal above a "Request access" button (`requestAccess`): built here once, so the
 * mention, `/agents run` and a refused click on a suggestion all offer the same.
 */
export interface RunRefusal {
  refusal: string;
  requestAccess?: { words: string; offers: ChatOffer[] } | undefined;
}

/**
 * Why this person may not run the agent, in plain words for them; the agent when they may.
 * Checked before anything is posted for others to see, and on every click of a button, so a
 * refused person leaves no trace. An agent they may not view reads as unknown, as everywhere.
 * `request` is what they asked the agent: where the reason of an access request starts.
 */
export async function whyNotRun(
  deps: RunAccessDeps,
  principal: UserPrincipal,
  agentName: string,
  request = "",
): Promise<RunRefusal | { agent: Agent }> {
  const url = agentPageUrl(deps.publicUrl, agentName);
  try {
    const agent = await deps.directory.get(principal, agentName);
    if (agent.state !== "enabled") {
      const reason = agent.stateReason ? ` (${agent.stateReason})` : "";
      const error = new SwitchboardError("agent_unavailable", `it is ${agent.state}${reason}.`);
      return { refusal: refusalText(error, agentName, url) };
    }
    const permissions = await deps.directory.permissions(principal, agentName);
    if (!permissions.run) {
      return {
        refusal: refusalText(forbidden("not a runner"), agentName, url),
        requestAccess: deps.accessRequests
          ? requestAccessOffer(deps, agentName, request)
          : undefined,
      };
    }
    return { agent };
  } catch (error) {
    return { refusal: refusalText(error, agentName, url) };
  }
}

/** The refusal to run an agent the person may see, with its "Request access" button. */
export function requestAccessOffer(
  deps: { publicUrl: string },
  agentName: string,
  request: string,
): { words: string; offers: ChatOffer[] } {
  const url = agentPageUrl(deps.publicUrl, agentName);
  return {
    words: requestAccessText(agentName, url),
    offers: [requestAccessButton(agentName, request)],
  };
}

/**
 * `authorize` for a kind of button that runs `payload.agentName` (with `payload.text`, when
 * the button carries a request): the clicking person may run it. A person who may see the
 * agent is refused with a "Request access" button where the surface can show one.
 */
export function mayRunAgent(deps: RunAccessDeps) {
  return async (principal: UserPrincipal, payload: Record<string, unknown>) => {
    const text = typeof payload.text === "string" ? payload.text : "";
    const check = await whyNotRun(deps, principal, String(payload.agentName), text);
    if (!("refusal" in check)) return undefined;
    return check.requestAccess ? { plain: check.refusal, ...check.requestAccess } : check.refusal;
  };
}
