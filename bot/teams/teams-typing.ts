import type { TeamsTarget } from "./teams-deps.js";

/**
 * How long Teams shows one typing activity (the Activity protocol's A6000: three seconds).
 * Within it, another one to the same conversation shows nothing more (A6001: senders should
 * not send them more often), and would only spend the conversation's rate limit, which the
 * working cards of the same burst need.
 */
export const TYPING_SHOWN_MS = 3_000;
/** Conversations remembered at most; the list is pruned of those past TYPING_SHOWN_MS. */
const REMEMBERED_MAX = 10_000;

interface Sender {
  send(target: TeamsTarget, activity: Record<string, unknown>): Promise<string>;
}

/**
 * The first sign of life on a message to the bot in Teams: a typing activity in its
 * conversation, sent through the Bot Connector client like every reply (the activity's own
 * serviceUrl, checked against its token's `serviceurl` claim before any handler sees it), as
 * soon as the chat flow claims the message and before its slower part (the person, the
 * agent, the run; the "working…" card comes with the run). Teams ends the indicator when the
 * bot's next message arrives. Teams shows typing only in chats (1:1 and group), not in
 * channels, so the bot sends it only there (teams-bot.ts).
 */
export class TeamsTyping {
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly sender: Sender,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows the bot typing in the conversation, unless it already is (see TYPING_SHOWN_MS). */
  async show(target: TeamsTarget): Promise<void> {
    const key = `${target.serviceUrl}\n${target.conversationId}`;
    const now = this.now();
    const last = this.sent.get(key);
    if (last !== undefined && now - last < TYPING_SHOWN_MS) return;
    if (this.sent.size >= REMEMBERED_MAX) this.prune(now);
    this.sent.set(key, now);
    // A failure is the chat flow's to log: a BotConnectorError, which names no token.
    await this.sender.send(target, { type: "typing" });
  }

  private prune(now: number): void {
    for (const [key, at] of this.sent) {
      if (now - at >= TYPING_SHOWN_MS) this.sent.delete(key);
    }
    if (this.sent.size >= REMEMBERED_MAX) this.sent.clear();
  }
}
