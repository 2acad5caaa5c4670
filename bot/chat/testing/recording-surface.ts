import type {
  AgentSuggestions,
  ChatButton,
  ChatSurface,
  RunOutcome,
  RunReply,
  RunReplyTarget,
} from "../chat-surface.js";

/** The fake surface's conversation: a room. */
export type Room = { room: string };

/** One thing the surface was asked to show, in a room. */
export type Shown =
  | { room: string; said: string }
  | { room: string; suggested: string[]; intro: string; actionIds: string[] }
  | { room: string; buttons: ChatButton[]; words: string }
  | {
      room: string;
      reply: "begin" | "show" | "waiting" | "finish" | "recost";
      text: string;
      user: string;
    };

/**
 * A ChatSurface that records what the flow asks it to show, as a surface-neutral test
 * double: the flow's behaviour is what a person would see, whatever the surface's format.
 */
export class RecordingSurface implements ChatSurface<Room> {
  readonly name = "teams" as const;
  readonly shown: Shown[] = [];

  async say(target: Room, words: string): Promise<void> {
    this.shown.push({ room: target.room, said: words });
  }

  async suggest(target: Room, suggestions: AgentSuggestions): Promise<void> {
    this.shown.push({
      room: target.room,
      intro: suggestions.intro,
      suggested: suggestions.agents.map(({ agent }) => agent.name),
      actionIds: suggestions.agents.map(({ runActionId }) => runActionId),
    });
  }

  async buttons(target: Room, words: string, buttons: readonly ChatButton[]): Promise<void> {
    this.shown.push({ room: target.room, words, buttons: [...buttons] });
  }

  openReply(
    target: RunReplyTarget<Room>,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
  ): RunReply {
    const record = (reply: "begin" | "show" | "waiting" | "finish" | "recost", text: string) =>
      this.shown.push({ room: target.room, reply, text, user: target.user });
    return {
      get fresh() {
        return !progress.begun;
      },
      pace: 0,
      async begin() {
        progress.begun = true;
        record("begin", `${target.agentName} is working on it`);
        await save();
      },
      async show(text) {
        record("show", text);
      },
      async waiting(why) {
        record("waiting", why);
      },
      async running() {},
      async finish({ run, answer, link }: RunOutcome) {
        record(
          "finish",
          answer === undefined ? `failed: ${run.status} ${link}` : `${answer} ${link}`,
        );
      },
      async recost({ run }: RunOutcome) {
        record("recost", `$${run.costUsd}`);
      },
    };
  }

  /** What was shown in a room, in order. */
  in(room: string): Shown[] {
    return this.shown.filter((entry) => entry.room === room);
  }
}
