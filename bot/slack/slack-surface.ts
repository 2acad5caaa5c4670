import type { types, webApi } from "@slack/bolt";
import type {
  AgentSuggestions,
  ChatButton,
  ChatQuote,
  ChatSurface,
  PostedMessage,
  RunReplyTarget,
} from "../chat/index.js";
import { agentListBlocks } from "./agent-card-blocks.js";
import { chatButton } from "./chat-buttons.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import type { SlackConversation } from "./slack-deps.js";
import { type SlackProgress, SlackRunReply, type StreamingRefusals } from "./slack-run-reply.js";

/** How long a workspace that refused streaming gets message updates before it is asked again. */
const RETRY_STREAMING_AFTER_MS = 15 * 60_000;

/**
 * Switchboard's words (Markdown with `**bold**` and `` `code` ``) as mrkdwn: escaped, so
 * nothing in them (a name, a request quoted back) is Slack markup; bold in Slack's asterisks.
 */
export function wordsMrkdwn(words: string): string {
  return escapeMrkdwn(words).replace(/\*\*([^*\n]+)\*\*/g, "*$1*");
}

/**
 * People's words under Switchboard's (a reason, who asked), each in a plain_text section:
 * Slack applies no mrkdwn there, so `*bold*` or `_x_` read as typed, and the control
 * characters are escaped as everywhere, so `<!channel>` pings nobody.
 */
export function quoteBlocks(quotes: readonly ChatQuote[] = []): types.KnownBlock[] {
  return quotes.map((quote) => ({
    type: "section",
    text: {
      type: "plain_text",
      text: `${quote.label}: ${escapeMrkdwn(quote.text)}`.slice(0, 3000),
      emoji: false,
    },
  }));
}

/** Words as a message: the words in mrkdwn, then the quotes (see quoteBlocks). */
export function wordsMessage(
  words: string,
  quotes: readonly ChatQuote[] = [],
): { text: string; blocks?: types.KnownBlock[] } {
  const text = wordsMrkdwn(words);
  if (quotes.length === 0) return { text };
  return {
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }, ...quoteBlocks(quotes)],
  };
}

/** Words with buttons as a message (the words in mrkdwn, the quotes, then the buttons). */
export function buttonsMessage(
  words: string,
  buttons: readonly ChatButton[],
  quotes: readonly ChatQuote[] = [],
): { text: string; blocks: types.KnownBlock[] } {
  const text = wordsMrkdwn(words);
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text } },
      ...quoteBlocks(quotes),
      {
        type: "actions",
        elements: buttons.map((button) =>
          chatButton(button.label, button.actionId, {
            primary: button.style === "primary",
            danger: button.style === "danger",
          }),
        ),
      },
    ],
  };
}

/** The chat flow's renderer for Slack: Block Kit and mrkdwn, replies in the thread. */
export class SlackSurface implements ChatSurface<SlackConversation>, StreamingRefusals {
  readonly name = "slack" as const;
  /**
   * Workspaces where chat.startStream was refused, until when: they get message updates
   * instead, and are asked again later (a workspace may gain the feature).
   */
  private readonly noStreaming = new Map<string, number>();

  constructor(private readonly client: webApi.WebClient) {}

  async say(
    target: SlackConversation,
    words: string,
    quotes?: readonly ChatQuote[],
  ): Promise<void> {
    await this.post(target, wordsMessage(words, quotes));
  }

  /** The agents as cards (agent-card-blocks.ts), as `/agents` and App Home show them. */
  async suggest(target: SlackConversation, suggestions: AgentSuggestions): Promise<void> {
    const { intro, agents } = suggestions;
    const cards = agents.map(({ agent, url, runActionId }) => ({
      agent,
      options: { url, runActionId },
    }));
    await this.post(target, {
      text: `Agents you can run: ${agents.map(({ agent }) => agent.name).join(", ")}`,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: wordsMrkdwn(intro) } },
        ...agentListBlocks(cards),
      ],
    });
  }

  async buttons(
    target: SlackConversation,
    words: string,
    buttons: readonly ChatButton[],
    quotes?: readonly ChatQuote[],
  ): Promise<PostedMessage | undefined> {
    // A button's prompt is asked for when it is clicked (a modal: ChatActionClick.ask).
    return this.post(target, buttonsMessage(words, buttons, quotes));
  }

  /** chat.update of a message `buttons` posted: its channel (a DM's own id) and ts. */
  async replace(posted: PostedMessage, words: string, quotes?: readonly ChatQuote[]) {
    const message = wordsMessage(words, quotes);
    await this.client.chat.update({
      channel: String(posted.channel),
      ts: String(posted.ts),
      text: message.text,
      blocks: message.blocks ?? [],
    });
  }

  openReply(
    target: RunReplyTarget<SlackConversation>,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
  ): SlackRunReply {
    return new SlackRunReply(this.client, target, progress as SlackProgress, save, this);
  }

  refused(team: string): boolean {
    return (this.noStreaming.get(team) ?? 0) > Date.now();
  }

  refuse(team: string): void {
    this.noStreaming.set(team, Date.now() + RETRY_STREAMING_AFTER_MS);
  }

  /** Posts; answers where the message landed (Slack gives a DM its own channel id). */
  private async post(
    target: SlackConversation,
    body: { text: string; blocks?: types.KnownBlock[] },
  ): Promise<PostedMessage | undefined> {
    const sent = await this.client.chat.postMessage({
      channel: target.channel,
      thread_ts: target.threadTs,
      ...body,
    });
    return sent.channel && sent.ts ? { channel: sent.channel, ts: sent.ts } : undefined;
  }
}
