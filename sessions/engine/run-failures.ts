import { isRuntimeError } from "../../runtimes/index.js";
import type { RunError } from "../records.js";
import type { RunnableAgent } from "./agent-source.js";
import type { SecretScrubber } from "./secret-scrubber.js";

/** Why a turn was stopped from outside. */
export type StopReason = "cancelled" | "timeout" | "lease_lost" | "shutdown" | "cost_limit";

/** Why an agent may not run at all, when it may not. */
export function refusalFor(agent: RunnableAgent): RunError | undefined {
  if (agent.retired)
    return { code: "agent_retired", message: `The agent "${agent.name}" has been retired.` };
  if (agent.state !== "enabled") {
    const reason = agent.stateReason ? `: ${agent.stateReason}` : "";
    return {
      code: "agent_unavailable",
      message: `The agent "${agent.name}" is ${agent.state}${reason}.`,
    };
  }
  return undefined;
}

/** The failure in words for the person; a secret the runtime echoed in its message is taken out. */
export function describeFailure(
  error: unknown,
  stopped: StopReason | undefined,
  agent: RunnableAgent,
  scrubber: SecretScrubber,
): { error: RunError; retryable: boolean; expected: boolean } {
  if (stopped === "timeout") {
    return {
      error: {
        code: "timeout",
        message: `The agent "${agent.name}" did not finish within its time limit.`,
      },
      retryable: false,
      expected: true,
    };
  }
  if (isRuntimeError(error)) {
    return {
      error: { code: error.code, message: scrubber.text(error.message) },
      retryable: error.retryable,
      expected: true,
    };
  }
  return {
    error: {
      code: "internal_error",
      message:
        "Switchboard hit an unexpected error while running this agent; the error is in its logs.",
    },
    retryable: false,
    expected: false,
  };
}
