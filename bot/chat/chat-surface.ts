import type { Agent } from "../../directory/index.js";
import type { Run } from "../../sessions/index.js";
import type { SurfaceName } from "./chat-message.js";

/**
 * What the chat flow says through a surface. Every text handed over is Markdown written by
 * Switchboard or an agent (`**bold**`, `` `code` ``, links, lists): the surface converts it
 * to its own format (Slack: mrkdwn, Teams: its Markdown) and escapes it there, so nothing
 * in it (an agent's `<!channel>`, a masked link) becomes the surface's own markup.
 */
export interface ChatSurface<Target extends object = object> {
  readonly name: SurfaceName;
  /** Plain words in the conversation: a refusal, a question, a notice. */
  say(target: Target, words: string): Promise<void>;
  /** The agents a request could go to, each with a "Run" button (its ChatActions id). */
  suggest(target: Target, suggestions: AgentSuggestions): Promise<void>;
  /** Words with buttons under them, each carrying only a ChatActions id (see ChatActionRegistry). */
  buttons(target: Target, words: string, buttons: readonly ChatButton[]): Promise<void>;
  /**
   * The reply to one run, shown as it goes. `progress` is what the surface saved of it so
   * far (message ids, a stream): empty for a new reply, restored when a restarted process
   * takes over a reply; the surface changes it in place and calls `save` to keep it.
   */
  openReply(
    target: RunReplyTarget<Target>,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
  ): RunReply;
}

/** Where a run's answer goes: the conversation, the person who asked and the agent. */
export type RunReplyTarget<Target extends object = object> = Target & {
  /** The surface's id of the person who asked (streams are addressed to them). */
  user: string;
  agentName: string;
  sessionId: string;
};

/** A run's reply in progress, driven by the reply loop (ChatReplyLoop). */
export interface RunReply {
  /** Nothing has been shown yet: `begin` shows a sign of life. */
  readonly fresh: boolean;
  /** How long to wait between two `show`s, in ms (the surface's rate limits). */
  readonly pace: number;
  begin(): Promise<void>;
  /** The answer so far (Markdown, growing; it may also be replaced). */
  show(text: string): Promise<void>;
  /** The run waits for a place; `why` is Switchboard's sentence saying why and until when. */
  waiting(why: string): Promise<void>;
  /** The run that was shown waiting now runs. */
  running(): Promise<void>;
  /** The closing message: the answer with its cost and link, or the failure in plain words. */
  finish(outcome: RunOutcome): Promise<void>;
  /**
   * The run's cost changed after `finish` (proxy spend booked to it landed late): edits the
   * message `finish` left to show the run as it is now. The same words as `finish`, only
   * the cost differs; a surface that shows no cost for this outcome leaves it alone.
   */
  recost(outcome: RunOutcome): Promise<void>;
}

export interface RunOutcome {
  run: Run;
  /** The answer (Markdown) when the run succeeded; undefined when it failed or was stopped. */
  answer: string | undefined;
  /** The session on the site. */
  link: string;
}

export interface AgentSuggestions {
  /** What the person is asked (Markdown). */
  intro: string;
  agents: { agent: Agent; url: string; runActionId: string }[];
}

export interface ChatButton {
  label: string;
  /** The ChatActions id: all a click carries back. */
  actionId: string;
  style?: "primary" | "danger" | undefined;
}
