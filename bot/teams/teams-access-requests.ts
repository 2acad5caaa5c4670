import {
  type AccessRequest,
  type AccessRequestNotifier,
  accessDecisionNotice,
  accessRequestNotice,
} from "../../directory/index.js";
import {
  accessRequestButtons,
  type ChatCore,
  type ChatFlow,
  replaceAccessRequestMessages,
} from "../chat/index.js";
import type { TeamsTarget } from "./teams-deps.js";
import type { TeamsDirectChats } from "./teams-direct.js";

export interface TeamsAccessRequestSettings {
  /**
   * The emails of the agent's owners, asked afresh, in tiers (app/approver-emails.ts): the
   * first tier with someone the bot knows is asked, so platform admins (owners of every
   * agent) are asked only when none of the agent's own owners can be.
   */
  ownerEmails(agentName: string): Promise<string[][]>;
}

/**
 * Access requests in Teams: each owner of the agent the bot knows gets an Adaptive Card in
 * their 1:1 chat naming who asks and why, with Approve, Deny and a field for Deny's reason
 * (the chat core's `approve_access` / `deny_access`); the person who asked hears the
 * decision in their 1:1 chat when the bot knows them, else where they asked in Teams (the
 * conversation or reply chain of their "Request access" click). People's words go as quotes: escaped,
 * shown as written.
 */
export class TeamsAccessRequestNotifier implements AccessRequestNotifier {
  constructor(
    private readonly direct: TeamsDirectChats,
    private readonly flow: ChatFlow<TeamsTarget>,
    private readonly settings: TeamsAccessRequestSettings,
    private readonly chat: Pick<ChatCore<TeamsTarget>, "replaceOffers" | "requestAskedFrom">,
  ) {}

  async requested(request: AccessRequest): Promise<void> {
    const { words, quotes } = accessRequestNotice(request);
    for (const owners of await this.settings.ownerEmails(request.agentName)) {
      const sent = await this.direct.each(owners, (target) =>
        this.flow.offer(target, words, accessRequestButtons(request.id), quotes),
      );
      if (sent > 0) return;
    }
  }

  async decided(request: AccessRequest): Promise<void> {
    // Every owner's card shows the decision, whoever made it and wherever.
    await replaceAccessRequestMessages(this.chat, request);
    const { words, quotes } = accessDecisionNotice(request);
    let failure: unknown;
    const sent = await this.direct
      .each([request.requesterEmail], (target) => this.flow.say(target, words, quotes))
      .catch((error: unknown) => {
        failure = error;
        return 0;
      });
    if (sent > 0) return;
    // The bot knows no 1:1 chat with them: tell them where they asked (a channel's reply
    // chain, a group chat), naming who asked. Asked on the site: the site shows it.
    const asked = await this.chat.requestAskedFrom(request.id);
    if (asked) {
      await this.flow.say(asked, words, [
        { label: "Asked by", text: request.requesterEmail },
        ...quotes,
      ]);
      return;
    }
    if (failure) throw failure;
  }
}
