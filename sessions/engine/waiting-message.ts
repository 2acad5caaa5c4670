import type { RunLimits, RunWait } from "../store/run-slots.js";

const runs = (count: number) => (count === 1 ? "1 run" : `${count} runs`);
const whenFree = (count: number) =>
  count === 1 ? "this one starts when it finishes" : "this one starts when one of them finishes";

/**
 * What a waiting run's person reads (the site's chat panel, the Slack thread, the API's
 * events): why it waits and when it starts. Agent names are slugs, safe on every surface.
 */
export function waitingMessage(wait: RunWait, limits: RunLimits, agentName: string): string {
  switch (wait.reason) {
    case "person_limit":
      return `You have ${runs(limits.perUser)} in progress, as many as one person may have at once; ${whenFree(limits.perUser)}.`;
    case "agent_limit":
      return `"${agentName}" has ${runs(limits.perAgent)} in progress, as many as it may have at once; ${whenFree(limits.perAgent)}.`;
    case "own_runs_first":
      return "Your runs that were waiting before this one start first; this one follows them.";
    case "others_first":
      return `Other people are waiting for "${agentName}" too and go first; this one starts after them.`;
  }
}
