import { randomUUID } from "node:crypto";
import {
  type Artifact,
  type Message,
  Role,
  type StreamResponse,
  type Task,
  TaskState,
  type TaskStatus,
} from "@a2a-js/sdk";
import type { Run, RunEvent, RunStatus } from "../../sessions/index.js";

/**
 * An A2A task is a Switchboard run, and its context the run's session: the task's id is the
 * run's, its contextId the session's. Both are read from the runs engine every time, so any
 * `serve` process answers for any task.
 */

const STATE: Record<RunStatus, TaskState> = {
  queued: TaskState.TASK_STATE_SUBMITTED,
  // Interrupted until an approver decides, out of band; the task goes on from here.
  needs_approval: TaskState.TASK_STATE_AUTH_REQUIRED,
  running: TaskState.TASK_STATE_WORKING,
  succeeded: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
  cancelled: TaskState.TASK_STATE_CANCELED,
};

/** Where a stream or a blocking send stops: the run ended, or waits for someone else. */
export function isInterrupted(state: TaskState): boolean {
  return (
    state === TaskState.TASK_STATE_COMPLETED ||
    state === TaskState.TASK_STATE_FAILED ||
    state === TaskState.TASK_STATE_CANCELED ||
    state === TaskState.TASK_STATE_AUTH_REQUIRED
  );
}

const HELD =
  "Held for an approver: a budget needs their yes before this runs. The task goes on once they approve it (follow it with GetTask); a denial fails it with their reason.";

/** A text message of the agent's or the person's. */
export function textMessage(
  role: Role,
  text: string,
  ids: { contextId: string; taskId: string },
  messageId: string = randomUUID(),
): Message {
  return {
    messageId,
    contextId: ids.contextId,
    taskId: ids.taskId,
    role,
    parts: [
      { content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "" },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const idsOf = (run: Run) => ({ contextId: run.sessionId, taskId: run.id });

/** What the status says in words: why it failed, that it was cancelled or is held. */
function statusWords(run: Run): string | undefined {
  if (run.status === "failed") return run.error?.message ?? "The run failed.";
  if (run.status === "cancelled") return "The run was cancelled.";
  if (run.status === "needs_approval") return HELD;
  return undefined;
}

function status(run: Run, state: TaskState, words: string | undefined): TaskStatus {
  const at = run.finishedAt ?? run.startedAt ?? run.createdAt;
  return {
    state,
    message: words === undefined ? undefined : textMessage(Role.ROLE_AGENT, words, idsOf(run)),
    timestamp: at.toISOString(),
  };
}

/** The answer as one artifact. */
function answer(runId: string, text: string): Artifact {
  return {
    artifactId: `${runId}-answer`,
    name: "answer",
    description: "The agent's answer",
    parts: [
      { content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "" },
    ],
    metadata: undefined,
    extensions: [],
  };
}

/** Switchboard's own facts about the run: its cost so far and where to read the session. */
function metadataOf(run: Run, siteUrl: string): Record<string, unknown> {
  return {
    switchboard: {
      run_id: run.id,
      session_id: run.sessionId,
      surface: run.surface,
      cost_usd: run.costUsd,
      session_url: `${siteUrl}/sessions/${run.sessionId}`,
    },
  };
}

/** The run as a task: its state, the person's message, and the answer once there is one. */
export function taskOf(run: Run, siteUrl: string, historyLength?: number): Task {
  const ids = idsOf(run);
  const history = [textMessage(Role.ROLE_USER, run.input, ids, `${run.id}-input`)];
  if (run.output !== null) {
    history.push(textMessage(Role.ROLE_AGENT, run.output, ids, `${run.id}-output`));
  }
  return {
    id: run.id,
    contextId: run.sessionId,
    status: status(run, STATE[run.status], statusWords(run)),
    artifacts: run.output !== null ? [answer(run.id, run.output)] : [],
    history:
      historyLength === undefined ? history : history.slice(-historyLength || history.length),
    metadata: metadataOf(run, siteUrl),
  };
}

export function stateOf(run: Run): TaskState {
  return STATE[run.status];
}

/**
 * Turns a run's events, in order, into the stream's updates: status changes (with words
 * when it waits, retries or uses a tool), the answer's pieces as appends to one artifact,
 * and the closing status read from the finished run (`finished`), with its cost.
 */
export class TaskUpdates {
  private streamed = "";

  constructor(
    private readonly run: Run,
    private readonly siteUrl: string,
  ) {}

  /** Updates for one event; `finished` reads the run once the event closes it. */
  async of(event: RunEvent, finished: () => Promise<Run>): Promise<StreamResponse[]> {
    const data = event.data;
    switch (event.type) {
      case "run.status":
        return this.statusChange(String(data.status), data, finished);
      case "message.delta": {
        const text = typeof data.text === "string" ? data.text : "";
        if (text === "") return [];
        const first = this.streamed === "";
        this.streamed += text;
        return [this.artifact(text, { append: !first, lastChunk: false })];
      }
      case "message": {
        const text = typeof data.text === "string" ? data.text : "";
        // The whole answer after its pieces: only what the pieces did not already carry.
        if (this.streamed === "") {
          this.streamed = text;
          return text === "" ? [] : [this.artifact(text, { append: false, lastChunk: true })];
        }
        const rest = text.startsWith(this.streamed) ? text.slice(this.streamed.length) : "";
        this.streamed = text;
        return rest === "" ? [] : [this.artifact(rest, { append: true, lastChunk: true })];
      }
      case "tool.use":
        return [this.working(`Using ${String(data.name ?? "a tool")}…`)];
      case "runtime.status":
        return typeof data.message === "string" ? [this.working(data.message)] : [];
      case "attempt.failed":
        return [
          this.working(`An attempt failed (${String(data.message ?? data.code)}); trying again.`),
        ];
      default:
        return [];
    }
  }

  private async statusChange(
    next: string,
    data: Record<string, unknown>,
    finished: () => Promise<Run>,
  ): Promise<StreamResponse[]> {
    if (next === "running") return [this.working(undefined)];
    if (next === "waiting") {
      const words = typeof data.message === "string" ? data.message : "Waiting for a place to run.";
      const state =
        data.reason === "needs_approval"
          ? TaskState.TASK_STATE_AUTH_REQUIRED
          : TaskState.TASK_STATE_SUBMITTED;
      return [
        this.statusUpdate(
          state,
          state === TaskState.TASK_STATE_AUTH_REQUIRED ? `${words} ${HELD}` : words,
        ),
      ];
    }
    if (next === "needs_approval") {
      return [this.statusUpdate(TaskState.TASK_STATE_AUTH_REQUIRED, HELD)];
    }
    if (next === "succeeded" || next === "failed" || next === "cancelled") {
      const run = await finished();
      return [
        {
          payload: {
            $case: "statusUpdate",
            value: {
              taskId: run.id,
              contextId: run.sessionId,
              status: status(run, STATE[run.status], statusWords(run)),
              metadata: metadataOf(run, this.siteUrl),
            },
          },
        },
      ];
    }
    return [];
  }

  private working(words: string | undefined): StreamResponse {
    return this.statusUpdate(TaskState.TASK_STATE_WORKING, words);
  }

  private statusUpdate(state: TaskState, words: string | undefined): StreamResponse {
    const ids = idsOf(this.run);
    return {
      payload: {
        $case: "statusUpdate",
        value: {
          ...ids,
          status: {
            state,
            message: words === undefined ? undefined : textMessage(Role.ROLE_AGENT, words, ids),
            timestamp: new Date().toISOString(),
          },
          metadata: undefined,
        },
      },
    };
  }

  private artifact(text: string, chunk: { append: boolean; lastChunk: boolean }): StreamResponse {
    return {
      payload: {
        $case: "artifactUpdate",
        value: {
          taskId: this.run.id,
          contextId: this.run.sessionId,
          artifact: answer(this.run.id, text),
          append: chunk.append,
          lastChunk: chunk.lastChunk,
          metadata: undefined,
        },
      },
    };
  }
}
