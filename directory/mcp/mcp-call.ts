import { randomUUID } from "node:crypto";
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type ProgressToken,
} from "@modelcontextprotocol/sdk/types.js";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import { isClosingEvent, type RunEvent, type RunsService } from "../../sessions/index.js";
import type { McpCalls } from "./mcp-calls.js";

/** Fewest milliseconds between two progress notifications about the answer's words. */
const DELTA_PROGRESS_EVERY_MS = 250;
/** How much of the answer so far a progress message shows (its end). */
const PROGRESS_TAIL_CHARS = 160;

export interface ToolCall {
  principal: UserPrincipal;
  agentName: string;
  request: string;
  sessionId: string | undefined;
  /** The JSON-RPC request id: how a later `notifications/cancelled` names this call. */
  requestId: string | number;
  progressToken: ProgressToken | undefined;
  /** Aborted when the client cancels or the HTTP request goes away. */
  signal: AbortSignal;
  sendProgress(progress: number, message: string): Promise<void>;
}

export interface ToolCallDeps {
  runs: RunsService;
  calls: McpCalls;
  /** `https://switchboard.example.com`: where the session's page is. */
  publicUrl: string;
  /** Whether the agent is none the person may see: then the name is no tool at all. */
  unknownTool(): Promise<boolean>;
}

function refusal(text: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text }] };
}

/** What a progress notification says about one event; undefined: nothing worth saying. */
function progressMessage(event: RunEvent, answer: string): string | undefined {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case "run.status":
      return typeof data.message === "string"
        ? `${String(data.status)}: ${data.message}`
        : String(data.status);
    case "runtime.status":
      return typeof data.message === "string" ? data.message : `agent ${String(data.status)}`;
    case "tool.use":
      return `using ${String(data.name)}`;
    case "message.delta":
      return answer.length > PROGRESS_TAIL_CHARS
        ? `…${answer.slice(-PROGRESS_TAIL_CHARS)}`
        : answer;
    case "attempt.failed":
      return `an attempt failed (${String(data.message ?? data.code)}); trying again`;
    default:
      return undefined;
  }
}

/**
 * One `tools/call`: one turn of the agent through the runs engine, as every other surface
 * starts one (admission: access, the agent's state, budgets), in a new MCP session or the
 * caller's own session. Follows the run's events, telling the client its progress when it
 * asked for it, and answers with the reply, the session id and the session's page.
 * Refusals are tool errors in words: the model reading them can tell the person.
 */
export async function callAgentTool(call: ToolCall, deps: ToolCallDeps): Promise<CallToolResult> {
  const { runs, calls } = deps;
  let started: Awaited<ReturnType<RunsService["start"]>>;
  try {
    started = await runs.start(call.principal, {
      agentName: call.agentName,
      input: call.request,
      sessionId: call.sessionId,
      conversation: call.sessionId
        ? undefined
        : { surface: "mcp", conversationKey: randomUUID(), title: call.request.slice(0, 120) },
    });
  } catch (error) {
    if (!isSwitchboardError(error) || error.status >= 500) throw error;
    if (error.status === 404 && (await deps.unknownTool())) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${call.agentName}`);
    }
    return refusal(error.message);
  }
  const { run, session, agent } = started;
  const sessionUrl = `${deps.publicUrl}/sessions/${session.id}`;
  const continueHint = `To continue this conversation, call ${agent.name} again with session_id "${session.id}".`;
  await calls.started(call.principal.userId, call.requestId, run.id);
  const following = new AbortController();
  const cancel = () => {
    following.abort();
    // The run goes on without anyone to answer: stop it (a finished one stays as it is).
    runs.cancel(call.principal, run.id).catch(() => undefined);
  };
  if (call.signal.aborted) cancel();
  else call.signal.addEventListener("abort", cancel, { once: true });
  try {
    let answer = "";
    let progress = 0;
    let lastDeltaAt = 0;
    for await (const event of runs.follow(run.id, 0, following.signal)) {
      const data = event.data as Record<string, unknown>;
      if (event.type === "message.delta" && typeof data.text === "string") answer += data.text;
      if (event.type === "message" && typeof data.text === "string") answer = data.text;
      if (
        event.type === "run.status" &&
        data.status === "waiting" &&
        data.reason === "needs_approval"
      ) {
        return refusal(
          `${String(data.message ?? "This run waits for an approver's yes.")} Once approved it runs, and its answer appears in the session at ${sessionUrl}. ${continueHint}`,
        );
      }
      if (isClosingEvent(event)) break;
      if (call.progressToken === undefined) continue;
      const now = Date.now();
      if (event.type === "message.delta" && now - lastDeltaAt < DELTA_PROGRESS_EVERY_MS) continue;
      if (event.type === "message.delta") lastDeltaAt = now;
      const message = progressMessage(event, answer);
      if (message !== undefined) await call.sendProgress(++progress, message);
    }
    if (call.signal.aborted) return refusal("The call was cancelled, and so was the run.");
    const { run: finished } = await runs.get(call.principal, run.id);
    if (finished.status === "cancelled") {
      return refusal(`The run was cancelled. The session is at ${sessionUrl}. ${continueHint}`);
    }
    if (finished.status !== "succeeded") {
      const why = finished.error?.message ?? "The agent did not answer.";
      return refusal(`${why} The session is at ${sessionUrl}. ${continueHint}`);
    }
    const text = finished.output ?? answer;
    return {
      content: [
        { type: "text", text },
        {
          type: "text",
          text: `session_id: ${session.id}\n${continueHint}\nThe conversation on the Switchboard site: ${sessionUrl}`,
        },
      ],
      structuredContent: {
        answer: text,
        session_id: session.id,
        session_url: sessionUrl,
        run_id: run.id,
        cost_usd: finished.costUsd,
      },
    };
  } finally {
    call.signal.removeEventListener("abort", cancel);
    await calls.ended(run.id).catch(() => undefined);
  }
}
