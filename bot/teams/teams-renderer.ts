import type { Agent } from "../../directory/index.js";
import type { Run } from "../../sessions/index.js";
import { costText } from "../chat/index.js";
import { cardAttachment, suggestionsCard } from "./agent-cards.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";
import { escapeTeamsText, teamsMarkdown } from "./teams-text.js";

/** Teams allows about one update per second per conversation; a little under it. */
const UPDATE_EVERY_MS = 1500;

/**
 * How Switchboard speaks in Teams: plain words, suggestion cards, and the reply to a run —
 * streamed in a 1:1 chat (Teams' streaming protocol: typing activities carrying a
 * `streaminfo` entity, then the final message), elsewhere one message updated in place
 * (PUT) within Teams' rate limits. Everything shown is escaped for Teams (teams-text.ts).
 */
export class TeamsRenderer {
  constructor(private readonly deps: Pick<TeamsDeps, "tokens" | "publicUrl">) {}

  /** Plain words (Switchboard's Markdown) in the conversation: a refusal, a question. */
  async say(target: TeamsTarget, words: string): Promise<void> {
    await this.send(target, {
      type: "message",
      textFormat: "markdown",
      text: teamsMarkdown(words),
    });
  }

  /** The agents a request could go to, each with a Run button (its chat action id). */
  async suggest(
    target: TeamsTarget,
    intro: string,
    agents: readonly { agent: Agent; url: string; actionId: string }[],
  ): Promise<void> {
    await this.send(target, {
      type: "message",
      attachments: [cardAttachment(suggestionsCard(intro, agents))],
    });
  }

  /** A run's reply, shown as it goes. */
  openReply(target: TeamsTarget, agentName: string): TeamsRunReply {
    return new TeamsRunReply(this, target, agentName);
  }

  async send(target: TeamsTarget, activity: Record<string, unknown>): Promise<string> {
    const client = connectorClient(this.deps, target.serviceUrl);
    const sent = await client.conversations
      .activities(target.conversationId)
      .create(activity as never);
    return sent.id;
  }

  async update(target: TeamsTarget, id: string, activity: Record<string, unknown>): Promise<void> {
    const client = connectorClient(this.deps, target.serviceUrl);
    await client.conversations.activities(target.conversationId).update(id, activity as never);
  }

  /** The closing words under an answer: its cost and where the session is on the site. */
  closing(run: Run, link: string): string {
    const cost = costText(run.costUsd);
    return `${cost ? `${cost} · ` : ""}[View on Switchboard](${link})`;
  }
}

/** One run's reply: a stream in a 1:1 chat, else a message updated in place. */
export class TeamsRunReply {
  readonly pace = UPDATE_EVERY_MS;
  private messageId: string | undefined;
  private streamId: string | undefined;
  private sequence = 0;

  constructor(
    private readonly renderer: TeamsRenderer,
    private readonly target: TeamsTarget,
    private readonly agentName: string,
  ) {}

  /** A sign of life: the stream's first chunk, or the message the answer will replace. */
  async begin(): Promise<void> {
    const words = `*${escapeTeamsText(this.agentName)}* is working on it…`;
    if (this.target.personal) {
      this.streamId = await this.renderer.send(this.target, this.chunk(words));
      return;
    }
    this.messageId = await this.renderer.send(this.target, {
      type: "message",
      textFormat: "markdown",
      text: words,
    });
  }

  /** The answer so far. */
  async show(text: string): Promise<void> {
    const shown = teamsMarkdown(text);
    if (this.target.personal && this.streamId) {
      await this.renderer.send(this.target, this.chunk(shown));
    } else if (this.messageId) {
      await this.renderer.update(this.target, this.messageId, {
        type: "message",
        textFormat: "markdown",
        text: shown,
      });
    }
  }

  /** The run waits for a place: Switchboard's sentence says why and until when. */
  async waiting(why: string): Promise<void> {
    await this.show(`*${this.agentName}* will start soon: ${why}`);
  }

  /** The closing message: the answer with its cost and link, or the failure in words. */
  async finish(run: Run, answer: string | undefined, link: string): Promise<void> {
    const body =
      answer !== undefined
        ? teamsMarkdown(answer || "(no answer)")
        : escapeTeamsText(failureWords(run, this.agentName));
    const text = `${body}\n\n${this.renderer.closing(run, link)}`;
    const final = { type: "message", textFormat: "markdown", text };
    if (this.target.personal && this.streamId) {
      await this.renderer.send(this.target, {
        ...final,
        entities: [{ type: "streaminfo", streamId: this.streamId, streamType: "final" }],
      });
    } else if (this.messageId) {
      await this.renderer.update(this.target, this.messageId, final);
    } else {
      await this.renderer.send(this.target, final);
    }
  }

  /** A typing activity carrying the stream's next chunk (the whole text so far). */
  private chunk(text: string) {
    this.sequence += 1;
    return {
      type: "typing",
      text,
      entities: [
        {
          type: "streaminfo",
          streamType: "streaming",
          streamSequence: this.sequence,
          ...(this.streamId ? { streamId: this.streamId } : {}),
        },
      ],
    };
  }
}

function failureWords(run: Run, agentName: string): string {
  if (run.status === "cancelled") return `${agentName}'s run was stopped.`;
  const why = run.error?.message ? `: ${run.error.message}` : ".";
  return `${agentName} could not answer${why}`;
}
