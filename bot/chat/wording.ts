import { formatUsd, isSwitchboardError } from "../../core/index.js";

/**
 * What a chat says when a run cannot start, in words for the person who asked: what went
 * wrong and what they can do. `agentUrl` is the agent's page, where access is requested.
 */
export function refusalText(error: unknown, agentName: string, agentUrl: string): string {
  if (!isSwitchboardError(error)) {
    return "Something went wrong on Switchboard's side and nothing was started. Please try again in a minute.";
  }
  switch (error.code) {
    case "not_found":
      return `I couldn't find an agent called \`${agentName}\` that you can use. Mention me without an agent's name to see the ones you can run.`;
    case "forbidden":
      return `You can see \`${agentName}\` but you aren't allowed to run it yet. Ask for access on its page: ${agentUrl}`;
    case "agent_unavailable":
    case "runtime_unsupported":
      return `\`${agentName}\` can't run right now: ${error.message}`;
    case "authz_unavailable":
      return "I couldn't check your access just now, so nothing was started. Please try again in a minute.";
    case "bad_request":
    case "agent_retired":
      return error.message;
    default:
      return `Nothing was started: ${error.message}`;
  }
}

/** The refusal to run an agent the person may see, above its "Request access" button. */
export function requestAccessText(agentName: string, agentUrl: string): string {
  return `You can see \`${agentName}\` but you aren't allowed to run it yet. Ask its owners with the button below (or on its page: ${agentUrl}).`;
}

/**
 * A run's cost for a person: "$0.0042", "<$0.0001", or nothing when it cost nothing. The
 * digits are core's formatUsd, the same the site shows.
 */
export function costText(costUsd: number): string | undefined {
  return costUsd > 0 ? formatUsd(costUsd) : undefined;
}
