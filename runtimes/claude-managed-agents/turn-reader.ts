import type { BetaManagedAgentsStreamSessionEvents as StreamEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events";
import { excerpt } from "../excerpt.js";
import type { RuntimeEvent } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { RUNTIME_NAME } from "./errors.js";
import { minorUnits } from "./list-cost.js";
import { budgetReachedError } from "./session-budget.js";

/** Tokens of one turn, summed over its model requests (`span.model_request_end`). */
export interface TurnTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** How the turn ended, once the session said so. */
export type TurnEnd =
  | { kind: "answered" }
  /** The agent waits on something Switchboard cannot give (a tool confirmation, a custom tool's result). */
  | { kind: "input-required" }
  | { kind: "failed"; error: RuntimeError };

/**
 * Reads one turn out of a session's event stream: the user message this turn sent starts
 * it, `session.status_idle` ends it. Answer text arrives twice on a connection that asked
 * for `event_deltas` (previews, then the whole `agent.message`); the previews are shown as
 * they come and the whole message only fills in what the previews missed.
 */
export class TurnReader {
  readonly tokens: TurnTokens = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  /** The session's cumulative list cost in minor units (cents) at the last usage snapshot. */
  listCostMinor: number | undefined;
  end: TurnEnd | undefined;
  private readonly messages: string[] = [];
  /** Text already shown per previewed `agent.message` id. */
  private readonly previewed = new Map<string, string>();
  private lastError: string | undefined;
  /** Set once this turn's message is taken: an idle before that is the session's old state. */
  private started = false;

  /** `budgetReached`: the failure when the session stops at its cap, naming the run's limit. */
  constructor(private readonly budgetReached: () => RuntimeError = () => budgetReachedError()) {}

  /** The answer: every `agent.message` of the turn, in order. */
  get answer(): string {
    return this.messages.join("\n\n");
  }

  read(event: StreamEvent): RuntimeEvent[] {
    switch (event.type) {
      case "event_delta": {
        const text = event.delta.content?.type === "text" ? event.delta.content.text : "";
        if (!text) return [];
        this.previewed.set(event.event_id, (this.previewed.get(event.event_id) ?? "") + text);
        return [{ type: "message_delta", text }];
      }
      case "agent.message": {
        const text = event.content
          .map((block) => (block.type === "text" ? block.text : ""))
          .join("");
        this.messages.push(text);
        const shown = this.previewed.get(event.id) ?? "";
        this.previewed.delete(event.id);
        // Fill in what the previews did not show (all of it when there were none).
        const rest = text.startsWith(shown) ? text.slice(shown.length) : text;
        return rest ? [{ type: "message_delta", text: rest }] : [];
      }
      case "agent.tool_use":
      case "agent.custom_tool_use":
        return [{ type: "tool_use", name: event.name, input: event.input, id: event.id }];
      case "agent.mcp_tool_use":
        return [
          {
            type: "tool_use",
            name: `${event.mcp_server_name}.${event.name}`,
            input: event.input,
            id: event.id,
          },
        ];
      case "span.model_request_end": {
        const usage = event.model_usage;
        this.tokens.inputTokens += usage.input_tokens ?? 0;
        this.tokens.outputTokens += usage.output_tokens ?? 0;
        this.tokens.cacheReadTokens += usage.cache_read_input_tokens ?? 0;
        this.tokens.cacheWriteTokens += usage.cache_creation_input_tokens ?? 0;
        return [];
      }
      case "session.usage": {
        this.listCostMinor = minorUnits(event.usage.list_cost) ?? this.listCostMinor;
        return [];
      }
      case "user.message":
        this.started = true;
        return [];
      case "session.status_running":
        this.started = true;
        return [{ type: "status", status: "working" }];
      case "session.status_rescheduled":
        return [
          {
            type: "status",
            status: "rescheduling",
            message: `${RUNTIME_NAME} hit a passing problem and is retrying on its own.`,
          },
        ];
      case "session.error": {
        this.lastError = excerpt(event.error.message);
        if (event.error.retry_status.type === "retrying") {
          return [{ type: "status", status: "retrying", message: this.lastError }];
        }
        return [];
      }
      case "session.status_idle":
        return this.started ? this.idle(event) : [];
      case "session.status_terminated":
        this.end = failed(
          `The ${RUNTIME_NAME} session ended${this.lastError ? `: ${this.lastError}` : "."}`,
        );
        return [];
      case "session.deleted":
        this.end = failed(`The ${RUNTIME_NAME} session was deleted while it was answering.`);
        return [];
      default:
        return [];
    }
  }

  private idle(event: Extract<StreamEvent, { type: "session.status_idle" }>): RuntimeEvent[] {
    const reason = event.stop_reason;
    switch (reason.type) {
      case "end_turn":
        this.end = { kind: "answered" };
        return [];
      case "requires_action":
        this.end = { kind: "input-required" };
        return [
          {
            type: "status",
            status: "input-required",
            message: `The agent is waiting for an approval or a tool result in ${RUNTIME_NAME}, which Switchboard cannot give.`,
          },
        ];
      case "retries_exhausted":
        this.end = failed(
          `The agent gave up after repeated errors${this.lastError ? `: ${this.lastError}` : "."}`,
        );
        return [];
      case "budget_reached":
        // The session's cap is set from the run's limit (session-budget.ts): a cost stop.
        this.end = { kind: "failed", error: this.budgetReached() };
        return [];
      case "refusal": {
        const why = excerpt(event.stop_details?.explanation ?? "");
        this.end = failed(`The agent declined to answer${why ? `: ${why}` : "."}`);
        return [];
      }
      default:
        this.end = { kind: "answered" };
        return [];
    }
  }
}

function failed(message: string): TurnEnd {
  return { kind: "failed", error: new RuntimeError(RUNTIME_ERROR_CODES.agentFailed, message) };
}
