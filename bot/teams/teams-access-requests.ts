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
  /** The emails of the agent's owners (OpenFGA's users with `owner` on it), asked afresh. */
  ownerEmails(agentName: string): Promise<string[]>;
}

/**
 * Access requests in Teams: each owner of the agent the bot knows gets an Adaptive Card in
 * their 1:1 chat naming who asks and why, with Approve, Deny and a field for Deny's reason
 * (the chat core's `approve_access` / `deny_access`); the person who asked hears the
 * decision in their 1:1 chat when the bot knows them. People's words go as quotes: escaped,
 * shown as written.
 */
export class TeamsAccessRequestNotifier implements AccessRequestNotifier {
  constructor(
    private readonly direct: TeamsDirectChats,
    private readonly flow: ChatFlow<TeamsTarget>,
    private readonly settings: TeamsAccessRequestSettings,
    private readonly chat: Pick<ChatCore<TeamsTarget>, "replaceOffers">,
  ) {}

  async requested(request: AccessRequest): Promise<void> {
    const { words, quotes } = accessRequestNotice(request);
    const owners = await this.settings.ownerEmails(request.agentName);
    await this.direct.each(owners, (target) =>
      this.flow.offer(target, words, accessRequestButtons(request.id), quotes),
    );
  }

  async decided(request: AccessRequest): Promise<void> {
    // Every owner's card shows the decision, whoever made it and wherever.
    await replaceAccessRequestMessages(this.chat, request);
    const { words, quotes } = accessDecisionNotice(request);
    await this.direct.each([request.requesterEmail], (target) =>
      this.flow.say(target, words, quotes),
    );
  }
}
