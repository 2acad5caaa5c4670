import type { webApi } from "@slack/bolt";

/** The reaction the bot puts on a message it has taken: people read 👀 as "seen, on it". */
export const SEEN_REACTION = "eyes";

/**
 * Answers from reactions.add that mean this workspace will never take the reaction (the
 * app was installed without `reactions:write`, or reactions are off): it is not asked again.
 */
const NEVER = new Set([
  "missing_scope",
  "not_allowed_token_type",
  "no_permission",
  "not_reactable",
]);

/**
 * The first sign of life on a message to the bot: a 👀 reaction on it, as soon as its
 * delivery is claimed, before the slower work of finding the person and the agent and
 * starting the run (the "working…" message comes with the run). It names no agent and says
 * nothing a refusal would take back.
 */
export class SeenReactions {
  private readonly refused = new Set<string>();

  constructor(private readonly client: webApi.WebClient) {}

  /** Reacts to the message; resolves quietly when it was already there. */
  async seen(team: string, channel: string, ts: string): Promise<void> {
    if (this.refused.has(team)) return;
    try {
      await this.client.reactions.add({ channel, timestamp: ts, name: SEEN_REACTION });
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error ?? "";
      if (code === "already_reacted") return;
      if (NEVER.has(code)) this.refused.add(team);
      throw error;
    }
  }
}
