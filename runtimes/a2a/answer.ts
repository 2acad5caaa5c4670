import { type Part, type StreamResponse, TaskState, type TaskStatus } from "@a2a-js/sdk";
import type { RuntimeEvent } from "../runtime.js";

type Update = NonNullable<StreamResponse["payload"]>;

/** Where a task stands from Switchboard's side: still running, answered, or ended badly. */
export type Outcome = "running" | "answered" | "failed" | "rejected" | "canceled";

/** A2A's state names as people see them in 0.3 and in the spec's prose ("input-required"). */
const STATE_NAMES: Partial<Record<TaskState, string>> = {
  [TaskState.TASK_STATE_SUBMITTED]: "submitted",
  [TaskState.TASK_STATE_WORKING]: "working",
  [TaskState.TASK_STATE_COMPLETED]: "completed",
  [TaskState.TASK_STATE_FAILED]: "failed",
  [TaskState.TASK_STATE_CANCELED]: "canceled",
  [TaskState.TASK_STATE_INPUT_REQUIRED]: "input-required",
  [TaskState.TASK_STATE_REJECTED]: "rejected",
  [TaskState.TASK_STATE_AUTH_REQUIRED]: "auth-required",
};

/** States that end a turn with an answer: done, or waiting for the person (the answer is the question). */
const ANSWERED = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_INPUT_REQUIRED,
  TaskState.TASK_STATE_AUTH_REQUIRED,
]);

/**
 * Reads what an A2A agent sends during one turn (a Task, a Message, status and artifact
 * updates; from a stream or from polling) and keeps what Switchboard needs: the context and
 * task ids, the state, and the answer's text. Streamed artifact chunks become deltas; the
 * final answer is the artifacts' text, else the status message (an input-required
 * question), else a direct Message's text.
 */
export class AnswerReader {
  contextId: string | undefined;
  taskId: string | undefined;
  private state: TaskState | undefined;
  private shownState: string | undefined;
  private statusText = "";
  private messageText: string | undefined;
  private readonly artifacts = new Map<string, string>();

  /** Takes one update; returns the events it is worth (status changes, text deltas). */
  absorb(update: Update | undefined): RuntimeEvent[] {
    const events: RuntimeEvent[] = [];
    if (!update) return events;
    switch (update.$case) {
      case "message": {
        const message = update.value;
        this.contextId ||= message.contextId || undefined;
        this.taskId ||= message.taskId || undefined;
        this.messageText = textOf(message.parts);
        // A Message from the agent is its whole reply: there is nothing more to wait on.
        this.state = TaskState.TASK_STATE_COMPLETED;
        break;
      }
      case "task": {
        const task = update.value;
        this.contextId = task.contextId || this.contextId;
        this.taskId = task.id || this.taskId;
        for (const artifact of task.artifacts ?? []) {
          this.artifacts.set(artifact.artifactId, textOf(artifact.parts));
        }
        this.status(task.status, events);
        break;
      }
      case "statusUpdate": {
        const event = update.value;
        this.contextId = event.contextId || this.contextId;
        this.taskId = event.taskId || this.taskId;
        this.status(event.status, events);
        break;
      }
      case "artifactUpdate": {
        const event = update.value;
        this.contextId = event.contextId || this.contextId;
        this.taskId = event.taskId || this.taskId;
        if (!event.artifact) break;
        const text = textOf(event.artifact.parts);
        const before = this.artifacts.get(event.artifact.artifactId) ?? "";
        this.artifacts.set(event.artifact.artifactId, event.append ? before + text : text);
        if (text) events.push({ type: "message_delta", text });
        break;
      }
    }
    return events;
  }

  get outcome(): Outcome {
    if (this.state === undefined) return "running";
    if (ANSWERED.has(this.state)) return "answered";
    if (this.state === TaskState.TASK_STATE_FAILED) return "failed";
    if (this.state === TaskState.TASK_STATE_REJECTED) return "rejected";
    if (this.state === TaskState.TASK_STATE_CANCELED) return "canceled";
    return "running";
  }

  /** The turn's answer (for input-required, the agent's question). */
  answer(): string {
    const artifacts = [...this.artifacts.values()].filter(Boolean).join("\n\n");
    if (this.state === TaskState.TASK_STATE_COMPLETED) {
      return artifacts || this.statusText || this.messageText || "";
    }
    return this.statusText || artifacts || this.messageText || "";
  }

  /** What the agent said when it failed or refused, for the error shown to the person. */
  reason(): string {
    return this.statusText || this.messageText || "";
  }

  private status(status: TaskStatus | undefined, events: RuntimeEvent[]): void {
    if (!status) return;
    this.state = status.state;
    const text = status.message ? textOf(status.message.parts) : "";
    if (text) this.statusText = text;
    const name = STATE_NAMES[status.state];
    const running =
      status.state === TaskState.TASK_STATE_WORKING ||
      status.state === TaskState.TASK_STATE_INPUT_REQUIRED ||
      status.state === TaskState.TASK_STATE_AUTH_REQUIRED;
    // Progress notes while working are shown as status, not mixed into the answer.
    if (name && running && (name !== this.shownState || text)) {
      this.shownState = name;
      events.push(
        text ? { type: "status", status: name, message: text } : { type: "status", status: name },
      );
    }
  }
}

/** Text parts as they are; structured data as JSON; files by name, since a turn's answer is text. */
function textOf(parts: readonly Part[] | undefined): string {
  return (parts ?? [])
    .map((part) => {
      const content = part.content;
      if (!content) return "";
      if (content.$case === "text") return content.value;
      if (content.$case === "data") return JSON.stringify(content.value);
      if (content.$case === "url") return `[file: ${part.filename || content.value}]`;
      return `[file: ${part.filename || "attachment"}]`;
    })
    .join("");
}
