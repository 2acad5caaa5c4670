import { costText, type RunOutcome, type RunReply, type RunReplyTarget } from "../chat/index.js";
import type { TeamsTarget } from "./teams-deps.js";
import { escapeTeamsText, teamsMarkdown } from "./teams-text.js";

/** Teams allows about one message update per second per conversation; a little under it. */
const UPDATE_EVERY_MS = 1_500;

/** What has been sent so far, saved so a restarted process finishes the same message. */
export interface TeamsProgress {
  /** The working message, later updated with the answer (channels and group chats). */
  messageId?: string | undefined;
  /** The stream's id (1:1 chats): the first chunk's activity id. */
  streamId?: string | undefined;
  /** The last chunk's sequence number (Teams wants them increasing). */
  sequence?: number | undefined;
  /** The activity holding the answer with its cost, once finished: updated when the cost changes. */
  answerId?: string | undefined;
}

interface Sender {
  send(target: TeamsTarget, activity: Record<string, unknown>): Promise<string>;
  update(target: TeamsTarget, id: string, activity: Record<string, unknown>): Promise<void>;
}

/**
 * A run's reply in Teams: streamed in a 1:1 chat (Teams' streaming protocol: typing
 * activities with a `streaminfo` entity, the first one's id naming the stream, then the
 * final message carrying `streamType: final`); elsewhere one working message updated in
 * place (PUT) at most every 1.5 s, then replaced by the answer with its cost and link.
 */
export class TeamsRunReply implements RunReply {
  readonly pace = UPDATE_EVERY_MS;

  constructor(
    private readonly sender: Sender,
    private readonly target: RunReplyTarget<TeamsTarget>,
    private readonly progress: TeamsProgress,
    private readonly save: () => Promise<void>,
  ) {}

  get fresh(): boolean {
    return !this.progress.messageId && !this.progress.streamId;
  }

  async begin(): Promise<void> {
    const words = `**${escapeTeamsText(this.target.agentName)}** is working on it…`;
    if (this.target.personal) {
      this.progress.streamId = await this.sender.send(this.target, this.chunk(words));
    } else {
      this.progress.messageId = await this.sender.send(this.target, message(words));
    }
  }

  async show(text: string): Promise<void> {
    const shown = teamsMarkdown(text);
    if (this.progress.streamId) {
      await this.sender.send(this.target, this.chunk(shown));
      await this.save();
    } else if (this.progress.messageId) {
      await this.sender.update(this.target, this.progress.messageId, message(shown));
    }
  }

  async waiting(why: string): Promise<void> {
    await this.show(`${this.target.agentName} will start soon: ${why}`);
  }

  async running(): Promise<void> {
    await this.show(`${this.target.agentName} is working on it…`);
  }

  async finish(outcome: RunOutcome): Promise<void> {
    const final = this.closing(outcome);
    if (this.progress.streamId) {
      const id = await this.sender.send(this.target, {
        ...final,
        entities: [{ type: "streaminfo", streamId: this.progress.streamId, streamType: "final" }],
      });
      this.progress.answerId = id || this.progress.streamId;
    } else if (this.progress.messageId) {
      await this.sender.update(this.target, this.progress.messageId, final);
      this.progress.answerId = this.progress.messageId;
    } else {
      this.progress.answerId = await this.sender.send(this.target, final);
    }
  }

  /**
   * The closing message again with the cost as it is now: the Bot Connector's update of the
   * activity (PUT), the same words as `finish` sent. The stream is over by then, so it is a
   * plain message update, without the stream's entity.
   */
  async recost(outcome: RunOutcome): Promise<void> {
    if (!this.progress.answerId) return;
    await this.sender.update(this.target, this.progress.answerId, this.closing(outcome));
  }

  /** The answer (or the failure in words) with the run's cost and its link. */
  private closing({ run, answer, link }: RunOutcome) {
    const body =
      answer !== undefined
        ? teamsMarkdown(answer || "(no answer)")
        : escapeTeamsText(failureWords(run.status, run.error?.message, this.target.agentName));
    const cost = costText(run.costUsd);
    return message(`${body}\n\n${cost ? `${cost} · ` : ""}[View on Switchboard](${link})`);
  }

  /** A typing activity carrying the stream's next chunk (the whole text so far). */
  private chunk(text: string) {
    const sequence = (this.progress.sequence ?? 0) + 1;
    this.progress.sequence = sequence;
    return {
      type: "typing",
      text,
      entities: [
        {
          type: "streaminfo",
          streamType: "streaming",
          streamSequence: sequence,
          ...(this.progress.streamId ? { streamId: this.progress.streamId } : {}),
        },
      ],
    };
  }
}

function message(text: string) {
  return { type: "message", textFormat: "markdown", text };
}

function failureWords(status: string, error: string | undefined, agentName: string): string {
  if (status === "cancelled") return `${agentName}'s run was stopped.`;
  return `${agentName} could not answer${error ? `: ${error}` : "."}`;
}
