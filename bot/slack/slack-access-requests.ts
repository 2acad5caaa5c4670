import type { webApi } from "@slack/bolt";
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
import type { SlackConversation } from "./slack-deps.js";
import { directMessagePlaces } from "./slack-dm.js";

export interface SlackAccessRequestSettings {
  /** The emails of the agent's owners (OpenFGA's users with `owner` on it), asked afresh. */
  ownerEmails(agentName: string): Promise<string[]>;
}

/**
 * Access requests in Slack: each owner of the agent gets a direct message naming who asks
 * and why, with Approve and Deny (the chat core's `approve_access` / `deny_access`, so a
 * click is checked and applied as on every surface); the person who asked gets a direct
 * message with the decision, whichever surface it was made on. People's words go as
 * quotes: shown as written, never as mrkdwn.
 */
export class SlackAccessRequestNotifier implements AccessRequestNotifier {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly flow: ChatFlow<SlackConversation>,
    private readonly settings: SlackAccessRequestSettings,
    private readonly chat: Pick<ChatCore<SlackConversation>, "replaceOffers">,
  ) {}

  async requested(request: AccessRequest): Promise<void> {
    const { words, quotes } = accessRequestNotice(request);
    const owners = await this.settings.ownerEmails(request.agentName);
    for (const place of await directMessagePlaces(this.client, owners)) {
      await this.flow.offer(place, words, accessRequestButtons(request.id), quotes);
    }
  }

  async decided(request: AccessRequest): Promise<void> {
    // Every owner's DM shows the decision, whoever made it and wherever.
    await replaceAccessRequestMessages(this.chat, request);
    const { words, quotes } = accessDecisionNotice(request);
    for (const place of await directMessagePlaces(this.client, [request.requesterEmail])) {
      await this.flow.say(place, words, quotes);
    }
  }
}
