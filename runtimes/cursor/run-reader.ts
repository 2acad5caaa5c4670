import { excerpt } from "../excerpt.js";
import type { RuntimeEvent } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import type { ServerSentEvent } from "../sse-reader.js";
import { badResponse, type Json } from "./api.js";

/** Run statuses after which nothing more happens (Get A Run: FINISHED, ERROR, CANCELLED, EXPIRED). */
export const TERMINAL = new Set(["FINISHED", "ERROR", "CANCELLED", "EXPIRED"]);

/** How a run ended: its status, final reply and the agent's pushed branches. */
export interface RunEnd {
  status: string;
  text: string | undefined;
  git: Json;
}

/**
 * Reads the events of one run's SSE stream (Stream A Run): `status`, `assistant` text
 * deltas, `tool_call` updates, then `result` and `done`. `thinking`, `heartbeat` and the
 * richer `interaction_update` events are skipped: the simplified events carry the answer.
 */
export class RunReader {
  end: RunEnd | undefined;
  done = false;
  private status: string | undefined;
  private readonly deltas: string[] = [];

  read(event: ServerSentEvent): RuntimeEvent[] {
    switch (event.event) {
      case "status": {
        const status = dataOf(event).status;
        return typeof status === "string" ? this.statusChanged(status) : [];
      }
      case "assistant": {
        const text = dataOf(event).text;
        if (typeof text !== "string" || !text) return [];
        this.deltas.push(text);
        return [{ type: "message_delta", text }];
      }
      case "tool_call": {
        const call = dataOf(event);
        // Each call is announced once, when it starts; its completion adds nothing to show.
        if (call.status !== "running" || typeof call.name !== "string") return [];
        return [
          {
            type: "tool_use",
            name: call.name,
            ...(call.args === undefined ? {} : { input: call.args }),
            ...(typeof call.callId === "string" ? { id: call.callId } : {}),
          },
        ];
      }
      case "result": {
        const data = dataOf(event);
        if (typeof data.status !== "string") throw badResponse("its run result has no status");
        this.end = {
          status: data.status,
          text: typeof data.text === "string" ? data.text : undefined,
          git: data.git,
        };
        return [];
      }
      case "error": {
        const data = dataOf(event);
        const said = typeof data.message === "string" ? data.message : String(data.code ?? "");
        // The run itself may still be going: the retry reads the same run again.
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `Cursor's event stream for the run broke off${said ? `: ${excerpt(said)}` : "."}`,
          { retryable: true },
        );
      }
      case "done":
        this.done = true;
        return [];
      default:
        return [];
    }
  }

  /** A status seen while polling: an event when it changed. */
  statusChanged(status: string): RuntimeEvent[] {
    if (status === this.status) return [];
    this.status = status;
    return [{ type: "status", status: status.toLowerCase() }];
  }

  /** The streamed answer, for a result that came without its text. */
  get streamed(): string {
    return this.deltas.join("");
  }
}

function dataOf(event: ServerSentEvent): Record<string, Json> {
  try {
    const parsed: unknown = JSON.parse(event.data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return parsed as Record<string, Json>;
    }
  } catch {
    // Falls through to the error below.
  }
  throw badResponse(`the data of its "${excerpt(event.event, 40)}" event is not a JSON object`);
}

/**
 * The pull request, else the branch, of each repository the agent pushed to (`git.branches`,
 * per agent, not per run), as lines to show under the answer.
 */
export function workLinks(git: Json): string[] {
  const branches: Json[] = Array.isArray(git?.branches) ? git.branches : [];
  const lines: string[] = [];
  for (const entry of branches) {
    const repo = typeof entry?.repoUrl === "string" ? excerpt(entry.repoUrl, 120) : undefined;
    if (typeof entry?.prUrl === "string" && /^https:\/\/[^\s]+$/.test(entry.prUrl)) {
      lines.push(`Pull request: ${excerpt(entry.prUrl, 300)}`);
    } else if (typeof entry?.branch === "string" && entry.branch) {
      lines.push(`Branch: ${excerpt(entry.branch, 120)}${repo ? ` (${repo})` : ""}`);
    }
  }
  return lines;
}
